// The config `up` writes (a pool that trusts partner.example through additionalTrustBundles),
// switched to `credentials.source: metadata` against `spiffe-lb metadata-server` for the same
// config: the metadata server delivers partner.example too (the pool's additionalTrustBundles),
// with the same anchors, so the two are one bundle and the proxy serves, and keeps serving
// across the metadata server's rotations.
import t from 'tap'
import { spawn } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { startBackendCommand } from '../src/testbed/backend-starter.ts'
import { startMetadataServerCommand } from '../src/testbed/metadata-server-runner.ts'
import { createDemoWorld, demoConfigYaml } from '../src/testbed/up-world.ts'

const main = new URL('../src/cli/main.ts', import.meta.url).pathname
const quiet = new Writable({ write (_c, _e, cb) { cb() } })
const out = { stdout: quiet, stderr: quiet }

t.test('the up config with source metadata serves, both domains, and keeps renewing', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'spiffe-lb-up-metadata-'))
  t.teardown(async () => { await rm(dir, { recursive: true, force: true }) })
  const world = await createDemoWorld(dir, Date.now())
  const ports = new Map<string, number>()
  for (const b of world.backends) {
    const running = await startBackendCommand({ listen: '127.0.0.1:0', cert: b.certFile, key: b.keyFile, bundle: b.bundles, name: b.name }, out)
    t.teardown(running.stop)
    ports.set(b.name, running.backend.port)
  }
  const upConfig = join(dir, 'config.yaml')
  const yaml = demoConfigYaml(world, ports, { proxyPort: 0, adminPort: 0 })
  await writeFile(upConfig, yaml)
  // A short lifetime, so the test sees rotations (the CIC's 50 % window: one every 2 s).
  const server = await startMetadataServerCommand({ config: upConfig, listen: '127.0.0.1:0', lifetime: '4s' }, out)
  if (typeof server === 'number') throw new Error(`metadata-server exited ${server}`)
  t.teardown(async () => { await server.close() })
  const switched = join(dir, 'metadata.yaml')
  const credentials = `credentials: { source: metadata, metadataUrl: "${server.url}", pollInterval: 1s, stateDir: ${world.stateDir} }`
  await writeFile(switched, yaml.replace(/^credentials: .*$/m, credentials))

  const check = spawn(process.execPath, [main, 'serve', '--check', '-c', switched], { stdio: ['ignore', 'pipe', 'pipe'] })
  let checked = ''
  check.stdout.on('data', (d: Buffer) => { checked += d.toString() })
  check.stderr.on('data', (d: Buffer) => { checked += d.toString() })
  t.equal(await new Promise((resolve) => check.once('exit', resolve)), 0, `serve --check agrees: ${checked}`)

  const child = spawn(process.execPath, [main, 'serve', '-c', switched, '--log-format', 'json'], { stdio: ['ignore', 'pipe', 'pipe'] })
  let log = ''
  child.stdout.on('data', (d: Buffer) => { log += d.toString() })
  child.stderr.on('data', (d: Buffer) => { log += d.toString() })
  t.teardown(() => { child.kill('SIGKILL') })
  const until = async (what: () => boolean | Promise<boolean>, label: string): Promise<void> => {
    const end = Date.now() + 60_000
    while (!await what()) {
      if (Date.now() > end || child.exitCode !== null) throw new Error(`timed out waiting for ${label}\n${log}`)
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
  }
  await until(() => /admin listening on http:/.test(log), 'serve to listen')
  const proxy = /proxy listening on (http:[^\s"]+)/.exec(log)?.[1] ?? ''
  const admin = /admin listening on (http:[^\s"]+)/.exec(log)?.[1] ?? ''
  const generation = async (): Promise<number> => ((await (await fetch(`${admin}/status`)).json()) as { identity: { generation?: number } }).identity.generation ?? 0
  await until(async () => await generation() > 0, 'the first credentials')

  const web = await fetch(`${proxy}/hello`)
  t.equal(web.status, 200, 'the pool\'s own domain is served')
  const partner = await fetch(`${proxy}/partner/hello`)
  t.equal(partner.status, 200, 'partner.example, from the metadata server and the config, is served')
  t.match(await partner.json(), { peer: /\/ns\/lb\/sa\/frontend$/ })

  const first = await generation()
  await until(async () => await generation() >= first + 2, 'two more rotations')
  t.equal((await fetch(`${proxy}/partner/hello`)).status, 200, 'still served after the rotations')
  t.notMatch(log, /DUPLICATE_TRUST_DOMAIN|TRUST_DOMAIN_OVERRIDDEN/, 'the same anchors from both are one bundle, silently')
  child.kill('SIGTERM')
  await new Promise((resolve) => child.once('exit', resolve))
})
