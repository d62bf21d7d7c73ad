// Measures `serve` (pooled mode), the minimal relay (relay.mjs) and nginx side by side, in
// interleaved slices against one backend, with the same load and the same CPU reading as
// `bench proxy`. Build first (`npm run build`), then, with Node 24:
//
//   node bench/relay-floor/compare.mjs [SLICE_SECONDS=3] [ROUNDS=10]
//
// Prints each side's CPU per request and its ratio to nginx. See bench/README.md.
import { spawn } from 'node:child_process'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createProxyWorld } from '../../dist/bench/proxy/proxy-world.js'
import { proxyBenchConfig } from '../../dist/bench/proxy/proxy-config.js'
import { findExecutable } from '../../dist/bench/proxy/peer-proxies.js'
import { cliArgs, processTreeCpuMicros, startChild } from '../../dist/bench/child-process.js'
import { runLoad } from '../../dist/bench/proxy/proxy-load.js'

const sliceMs = Number(process.argv[2] ?? 3) * 1000
const rounds = Number(process.argv[3] ?? 10)
const here = (f) => fileURLToPath(new URL(f, import.meta.url))
const world = await createProxyWorld('ECDSA_P256')
const stops = []
async function start (name, args) {
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] })
  stops.push(async () => { child.kill() })
  const { address } = await new Promise((resolve) => { child.once('message', resolve) })
  child.disconnect()
  return { name, pid: child.pid, address }
}
try {
  const config = join(world.dir, 'serve.yaml')
  await writeFile(config, proxyBenchConfig({ pki: world.pki, credentialsDir: world.credentialsDir, backend: world.backendAddress, mode: 'pooled' }))
  // serve logs to a file, as `bench proxy` gives it one and nginx writes its access log.
  const serve = await startChild({ name: 'serve', args: cliArgs('serve', '-c', config, '--drain-timeout', '1s'), ready: 'ipc', stdoutFile: join(world.dir, 'access.log') })
  stops.push(async () => { await serve.stop(3000) })
  const sides = [
    { name: 'spiffe-lb serve', pid: serve.pid, address: serve.announced.address },
    await start('minimal relay', [here('relay.mjs'), world.backendAddress, world.pki.client.certFile, world.pki.client.keyFile])
  ]
  const nginx = findExecutable('nginx')
  if (nginx !== undefined) {
    const peer = await world.startPeer('nginx', nginx, 'pooled')
    stops.push(async () => { await peer.child.stop(3000) })
    sides.push({ name: 'nginx', pid: peer.child.pid, address: peer.address })
  }
  const load = (side, durationMs) => runLoad({ url: `http://${side.address}/`, connections: 16, durationMs, progressBar: false, title: side.name })
  for (const side of sides) await load(side, 1000)
  const totals = new Map(sides.map((s) => [s.name, { cpu: 0, requests: 0 }]))
  for (let r = 0; r < rounds; r++) {
    for (const side of r % 2 === 0 ? sides : [...sides].reverse()) {
      const before = processTreeCpuMicros(side.pid)
      const { requests } = await load(side, sliceMs)
      const t = totals.get(side.name)
      t.cpu += processTreeCpuMicros(side.pid) - before
      t.requests += requests
    }
  }
  const per = (name) => totals.get(name).cpu / totals.get(name).requests
  for (const side of sides) {
    const ratio = nginx === undefined ? '' : ` (${(per(side.name) / per('nginx')).toFixed(2)}× nginx)`
    console.log(`${side.name.padEnd(16)} ${per(side.name).toFixed(1).padStart(7)} µs CPU per request${ratio}`)
  }
} finally {
  for (const stop of stops) await stop()
  await world.close()
}
