import { spawn, type ChildProcess } from 'node:child_process'
import { createPrivateKey } from 'node:crypto'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import t from 'tap'
import { startWorkloadApiCommand } from '../src/testbed/workload-api-runner.ts'
import { DEMO } from '../src/testbed/up-world.ts'
import { openCaPool } from '../src/control/ca-pool-store.ts'
import { parsePem } from '../src/internal/pem.ts'
import { issueSvidCertificate } from '../src/pki/index.ts'
import { buildGoProgram, goUnavailable } from './go-build.ts'
import { IDENTITY, createWapiWorld, curl, quiet, spawnServe, waitFor } from './workload-api-world.ts'

// Interop with grpc-go, the gRPC stack SPIRE uses: a Go Workload API server feeding `serve`, and
// a Go Workload API client reading `spiffe-lb workload-api`. Both Go programs live in test/go/
// and encode protobuf with protowire by hand, independently of proto/workload.proto.
const missing = goUnavailable()
if (missing !== undefined && process.env.CI !== undefined) throw new Error(`the Go interop tests need Go in CI: ${missing}`)
const skip = missing === undefined ? {} : { skip: missing }

const der = (pem: string): string => Buffer.concat(parsePem(pem).map((b) => b.der)).toString('base64')

/** Runs the Go server on `socket`; resolves once it listens. */
async function goServer (bin: string, socket: string, state: string): Promise<ChildProcess> {
  const child = spawn(bin, ['-socket', socket, '-state', state], { stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  child.stdout?.on('data', (d: Buffer) => { out += d.toString() })
  child.stderr?.on('data', (d: Buffer) => { out += d.toString() })
  await waitFor(() => out.includes('listening on') || child.exitCode !== null, 'the go server to listen')
  if (child.exitCode !== null) throw new Error(`go server exited: ${out}`)
  return child
}

t.test('a grpc-go Workload API server feeds serve: rotation, withdrawal, restart', skip, async (t) => {
  const bin = await buildGoProgram('workload-api-server')
  const w = await createWapiWorld()
  t.teardown(w.close)
  const { ca } = await openCaPool({ stateDir: w.world.stateDir, poolId: DEMO.caPoolId, subject: 'CN=Demo Root CA, O=Demo', keyAlgorithm: 'ECDSA_P256' })
  const partnerRoot = await readFile(w.world.partnerRootFile, 'utf8')
  const stateFile = join(w.dir, 'state.json')
  let lifetimeMs = 3_600_000
  const writeState = async (federated: boolean): Promise<void> => {
    const svid = await issueSvidCertificate(ca, { uri: IDENTITY, notBefore: Date.now() - 60_000, lifetimeMs })
    const key = createPrivateKey(svid.keyPem).export({ type: 'pkcs8', format: 'der' }).toString('base64')
    await writeFile(stateFile, JSON.stringify({
      svids: [{ id: IDENTITY, chain: der(svid.chainPem), key, bundle: der(ca.rootPem) }],
      federated: federated ? { [`spiffe://${DEMO.partnerDomain}`]: der(partnerRoot) } : {}
    }))
  }
  const socketPath = w.socket.slice('unix://'.length)
  await writeState(true)
  let go = await goServer(bin, socketPath, stateFile)
  t.teardown(() => { go.kill('SIGKILL') })
  const serve = await spawnServe(w.serveConfig)
  t.teardown(async () => { await serve.stop() })

  await waitFor(async () => (await serve.status()).identity?.generation !== undefined, 'the first snapshot')
  t.equal((await curl(`${serve.proxy}/hello`)).code, 200, 'traffic with the svid from grpc-go')
  t.equal((await curl(`${serve.proxy}/partner/a`)).code, 200, 'partner trusted through the federated bundle')

  // Rotation: a longer-lived svid, so /status shows which one is in force.
  const first = await serve.status()
  lifetimeMs = 7_200_000
  await writeState(true)
  go.kill('SIGHUP')
  await waitFor(async () => (await serve.status()).identity?.svidExpiry !== first.identity?.svidExpiry, 'the rotated svid')
  t.equal((await curl(`${serve.proxy}/hello`)).code, 200, 'traffic after the rotation')

  // Withdrawal: the next full state has no federated bundle, so partner.example is no longer trusted.
  await writeState(false)
  go.kill('SIGHUP')
  await waitFor(async () => !(await serve.status()).trustDomains.some((d) => d.trustDomain === DEMO.partnerDomain), 'the withdrawal')
  const partner = await curl(`${serve.proxy}/partner/b`)
  t.equal(partner.code, 502, 'the withdrawn domain is refused on the next request')
  t.match(partner.body, /ERR_SPIFFE_VERIFY_NO_BUNDLE/)

  // Restart: the server goes away (the last good snapshot serves on), then comes back with new state.
  go.kill('SIGKILL')
  await waitFor(async () => (await serve.status()).identity?.sourceState === 'retrying', 'the source to notice')
  t.equal((await curl(`${serve.proxy}/hello`)).code, 200, 'still serving on the last good snapshot')
  const beforeRestart = (await serve.status()).identity?.generation ?? 0
  await writeState(true)
  go = await goServer(bin, socketPath, stateFile)
  await waitFor(async () => {
    const s = await serve.status()
    return s.identity?.sourceState === 'streaming' && (s.identity.generation ?? 0) > beforeRestart
  }, 'the reconnect')
  // The partner endpoint was ejected while its domain was untrusted; its health check readmits it.
  await waitFor(async () => (await curl(`${serve.proxy}/partner/c`)).code === 200, 'the partner trusted again')
  t.pass('the restarted server\'s full state (partner federated again) is in force')
  t.equal(await serve.stop(), 0)
})

t.test('a grpc-go Workload API client reads spiffe-lb workload-api, rotation included', skip, async (t) => {
  const bin = await buildGoProgram('workload-api-client')
  const w = await createWapiWorld()
  t.teardown(w.close)
  const server = await startWorkloadApiCommand({ config: w.issuerConfig, listen: w.socket, identity: IDENTITY }, { stdout: quiet, stderr: quiet })
  if (typeof server === 'number') throw new Error(`workload-api exited ${server}`)
  t.teardown(async () => { await server.close() })
  const child = spawn(bin, ['-socket', w.socket.slice('unix://'.length), '-n', '2'], { stdio: ['ignore', 'pipe', 'pipe'] })
  t.teardown(() => { child.kill('SIGKILL') })
  let out = ''
  let err = ''
  child.stdout.on('data', (d: Buffer) => { out += d.toString() })
  child.stderr.on('data', (d: Buffer) => { err += d.toString() })
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => { resolve(code) }))
  await waitFor(() => out.includes('\n') || child.exitCode !== null, 'the first message')
  await server.rotateNow()
  t.equal(await exited, 0, err)
  const lines = out.trim().split('\n').map((l) => JSON.parse(l) as { id: string, serial: string, keyMatches: boolean, bundleCerts: number, federated: string[] })
  t.equal(lines.length, 2)
  for (const l of lines) {
    t.equal(l.id, IDENTITY)
    t.ok(l.keyMatches, 'the pkcs#8 key belongs to the leaf (checked by crypto/x509)')
    t.equal(l.bundleCerts, 1)
    t.same(l.federated, [`spiffe://${DEMO.partnerDomain}`])
  }
  t.not(lines[0]?.serial, lines[1]?.serial, 'the second full message carries the rotated svid')
})
