// Long-lived traffic follows trust inside `serve` (a real process, the demo backends): with a
// WebSocket, a gRPC server stream, an HTTP/2 streaming response and a chunked HTTP/1.1 response
// open through the proxy, (a) a config reload that drops the partner trust domain, (b) `ca
// revoke` of a backend's certificate, and (c) the proxy's own SVID expiring each end the streams
// of the backend concerned with their protocol's signal, once-per-connection log records and a
// metric; streams to a backend that still verifies keep flowing.
import t from 'tap'
import { execFile, spawn } from 'node:child_process'
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { loadCaDir } from '../src/control/ca-layout.ts'
import { issueSvidCertificate } from '../src/pki/index.ts'
import { TrustDomain } from '../src/spiffe/trust-domain.ts'
import { X509Bundle } from '../src/spiffe/x509-bundle.ts'
import { X509Svid } from '../src/spiffe/x509-svid.ts'
import { DEMO, demoConfigYaml } from '../src/testbed/up-world.ts'
import { startDemoBackends } from './demo-backends.ts'
import { writeCredentials } from './tls-fixtures.ts'
import { checkEnded, checkFlowing, openStreams, within } from './trust-streams.ts'

const run = promisify(execFile)
const main = new URL('../src/cli/main.ts', import.meta.url).pathname

const { dir, world, ports, stop } = await startDemoBackends('spiffe-lb-trust-streams-')
t.teardown(stop)
const poolCa = join(world.stateDir, 'ca-pools', DEMO.caPoolId)
const certOf = (name: string): string => world.backends.find((b) => b.name === name)?.certFile ?? ''
const PROXY_ID = `spiffe://${DEMO.trustDomain}/ns/lb/sa/frontend`

/** The demo config with, per backend, an HTTPS and an HTTP2 service routed by host (`NAME-h1.test`, `NAME-h2.test`). */
function config (options: { partnerTrusted: boolean, credentials?: string }): string {
  const names = ['partner', 'backend-1', 'backend-2']
  const services = names.flatMap((name) => (['h1', 'h2'] as const).map((p) => `  - name: ${name}-${p}
    protocol: ${p === 'h1' ? 'HTTPS' : 'HTTP2'}
    localityLbPolicy: ROUND_ROBIN
    timeoutSec: 60
    tlsSettings: { identity: "//${DEMO.trustDomain}/ns/lb/sa/frontend" }
    backends: [{ endpoints: ["127.0.0.1:${ports.get(name) ?? 0}"] }]
`)).join('')
  const hosts = names.flatMap((n) => [`${n}-h1`, `${n}-h2`])
  const urlMap = `urlMap:
  defaultService: backend-1-h1
  hostRules: [${hosts.map((h) => `{ hosts: ["${h}.test"], pathMatcher: ${h} }`).join(', ')}]
  pathMatchers: [${hosts.map((h) => `{ name: ${h}, defaultService: ${h} }`).join(', ')}]
`
  let yaml = demoConfigYaml(world, ports, { proxyPort: 0, adminPort: 0 }).replace(/^backendServices:\n[\s\S]*?(?=^frontend:)/m, `backendServices:\n${services}${urlMap}`)
  if (!options.partnerTrusted) yaml = yaml.replace(/^ {4}inlineTrustConfig:\n(?: {6,}.*\n)+/m, '')
  if (options.credentials !== undefined) yaml = yaml.replace(/^credentials: .*$/m, `credentials: { source: directory, directory: ${options.credentials}, pollInterval: 300s }`)
  return yaml
}

/** Starts `serve -c file`; returns the proxy port, the admin url and the log so far. */
async function serve (t: { teardown: (fn: () => void) => void }, file: string, ...args: string[]): Promise<{ port: number, admin: string, output: () => string }> {
  const child = spawn(process.execPath, [main, 'serve', '-c', file, '--log-format', 'json', '--drain-timeout', '1s', ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  child.stdout.on('data', (d: Buffer) => { output += d.toString() })
  child.stderr.on('data', (d: Buffer) => { output += d.toString() })
  t.teardown(() => { child.kill('SIGKILL') })
  const listening = async (): Promise<void> => { while (!/admin listening on http:/.test(output) || !/proxy listening on http:/.test(output)) await new Promise((resolve) => setTimeout(resolve, 50)) }
  await within(listening(), `serve to listen; output:\n${output}`, 30_000)
  return {
    port: Number(/proxy listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(output)?.[1] ?? 0),
    admin: /admin listening on (http:[^\s"]+)/.exec(output)?.[1] ?? '',
    output: () => output
  }
}

/** Resolves with the withdrawal records once `output` holds at least two (the log is buffered). */
async function loggedWithdrawals (output: () => string): Promise<ReturnType<typeof withdrawals>> {
  await within((async () => { while (withdrawals(output()).length < 2) await new Promise((resolve) => setTimeout(resolve, 50)) })(), `the withdrawal log records; output:\n${output()}`)
  return withdrawals(output())
}

/** The log records of connections ended by a trust withdrawal. */
function withdrawals (output: string): Array<{ code: string, reason: string, endpoint: string, backendSpiffeId: string, error: string }> {
  return output.split('\n').filter((l) => l.includes('"backend connection ended: trust withdrawn"')).map((l) => JSON.parse(l) as { code: string, reason: string, endpoint: string, backendSpiffeId: string, error: string })
}

async function metrics (admin: string): Promise<string> {
  return await (await fetch(`${admin}/metrics`)).text()
}

for (const workers of [[], ['--workers', '2']]) {
  t.test(`(a) a reload that drops the partner trust domain ends the partner streams; the others flow (serve ${workers.join(' ')})`, async (t) => {
    const file = join(dir, `a${workers.length}.yaml`)
    await writeFile(file, config({ partnerTrusted: true }))
    const { port, admin, output } = await serve(t, file, ...workers)
    if (workers.length > 0) await within((async () => { while ((await fetch(`${admin}/readyz`)).status !== 200) await new Promise((resolve) => setTimeout(resolve, 100)) })(), 'the workers')
    const lost = await openStreams(port, 'partner')
    const kept = await openStreams(port, 'backend-1')
    t.teardown(() => { lost.close(); kept.close() })
    await writeFile(file, config({ partnerTrusted: false }))
    await checkEnded(t, lost, { wsCode: 1008, grpcMessage: /no longer verifies under the new trust bundles: .*partner\.example.*\(ERR_SPIFFE_VERIFY_NO_BUNDLE\)/ })
    await checkFlowing(t, kept)
    await within((async () => { while (!/config reloaded/.test(output())) await new Promise((resolve) => setTimeout(resolve, 50)) })(), `the reload record; output:\n${output()}`)
    // Counted and logged once per connection (each worker logs its own; the log is buffered).
    const counted = Number(/spiffe_lb_backend_connections_withdrawn_total\{code="ERR_SPIFFE_TLS_PEER_UNTRUSTED",reason="ERR_SPIFFE_VERIFY_NO_BUNDLE"\} (\d+)/.exec(await metrics(admin))?.[1] ?? 0)
    t.ok(counted >= 2, `connections ended, counted: ${counted}`)
    await within((async () => { while (withdrawals(output()).length < counted) await new Promise((resolve) => setTimeout(resolve, 50)) })(), `as many log records as counted; output:\n${output()}`)
    const records = withdrawals(output())
    t.equal(records.length, counted, 'one log record per connection counted')
    t.ok(records.every((r) => r.code === 'ERR_SPIFFE_TLS_PEER_UNTRUSTED' && r.reason === 'ERR_SPIFFE_VERIFY_NO_BUNDLE' && r.endpoint === `127.0.0.1:${ports.get('partner') ?? 0}` && r.backendSpiffeId.includes('partner.example')), 'each names the partner endpoint and rule')
  })
}

t.test('(b) ca revoke of backend-2 ends its streams; backend-1 streams flow', async (t) => {
  const file = join(dir, 'b.yaml')
  await writeFile(file, config({ partnerTrusted: true }))
  const { port, output } = await serve(t, file)
  const lost = await openStreams(port, 'backend-2')
  const kept = await openStreams(port, 'backend-1')
  t.teardown(() => { lost.close(); kept.close() })
  const revoked = await run(process.execPath, [main, 'ca', 'revoke', '--ca', poolCa, '--cert', certOf('backend-2')])
  t.equal(revoked.stderr, '')
  await checkEnded(t, lost, { wsCode: 1008, grpcMessage: /backend-2\) no longer verifies .*is revoked by the crl .*\(ERR_SPIFFE_VERIFY_REVOKED\)/ })
  await checkFlowing(t, kept)
  const records = await loggedWithdrawals(output)
  t.ok(records.length >= 2 && records.every((r) => r.reason === 'ERR_SPIFFE_VERIFY_REVOKED' && r.endpoint === `127.0.0.1:${ports.get('backend-2') ?? 0}`), `logged per connection with the rule: ${records.length}`)
})

t.test('(c) the proxy SVID expiring ends every stream presenting it; the rotation before did not', async (t) => {
  // Directory credentials: a long-lived SVID first, then a short-lived one with no replacement.
  const creds = join(dir, 'creds')
  await mkdir(creds, { recursive: true })
  const ca = await loadCaDir(poolCa)
  const poolBundle = X509Bundle.fromPem(TrustDomain.fromString(DEMO.trustDomain), ca.rootPem)
  const svid = async (lifetimeMs: number): Promise<X509Svid> => {
    const issued = await issueSvidCertificate(ca, { uri: PROXY_ID, notBefore: Date.now() - 1000, lifetimeMs })
    return X509Svid.fromPem(issued.chainPem, issued.keyPem, 'test')
  }
  // The pool's own bundle comes with the credentials; the partner's stays in additionalTrustBundles.
  await writeCredentials(creds, await svid(3_600_000), [poolBundle])
  const file = join(dir, 'c.yaml')
  await writeFile(file, config({ partnerTrusted: true, credentials: creds }))
  const { port, admin, output } = await serve(t, file)
  const streams = await openStreams(port, 'backend-1')
  t.teardown(() => { streams.close() })

  const short = await svid(5000)
  await writeCredentials(creds, short, [poolBundle])
  await within((async () => { while (!output().includes(`serial ${short.leaf.serialNumber}`)) await new Promise((resolve) => setTimeout(resolve, 50)) })(), `the rotation to be loaded; output:\n${output()}`)
  t.ok(Date.now() < short.notAfter, 'rotated before the short-lived svid expired')
  await checkFlowing(t, streams)

  await checkEnded(t, streams, { wsCode: 1011, grpcMessage: /our svid ".*\/ns\/lb\/sa\/frontend" expired at .*\(ERR_SPIFFE_TLS_SVID_UNUSABLE\)/ })
  const records = await loggedWithdrawals(output)
  t.ok(records.length >= 2 && records.every((r) => r.code === 'ERR_SPIFFE_TLS_SVID_UNUSABLE'), `logged per connection: ${records.length}`)
  t.match(await metrics(admin), /spiffe_lb_backend_connections_withdrawn_total\{code="ERR_SPIFFE_TLS_SVID_UNUSABLE",reason="ERR_SPIFFE_TLS_SVID_UNUSABLE"\} [1-9]/)
})
