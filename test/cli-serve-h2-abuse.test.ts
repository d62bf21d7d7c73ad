// `serve` as a real process under HTTP/2 abuse, over h2c and over the TLS frontend: rapid reset
// (HEADERS + RST_STREAM in batches, CVE-2023-44487) and storms of 100 streams cancelled at once
// followed by idle time, against an HTTP2 service, an HTTPS (HTTP/1.1) service and a gRPC
// service. An unhandled error on one backend stream used to end the process once the pool's
// idle HTTP/2 connection closed; it must stay up, serve every service afterwards, and have
// sent the rapid-reset clients GOAWAY ENHANCE_YOUR_CALM (counted in /metrics).
import t from 'tap'
import { spawn } from 'node:child_process'
import { writeFile } from 'node:fs/promises'
import http2 from 'node:http2'
import { join } from 'node:path'
import { createRootCa, issueCertificate } from '../src/pki/index.ts'
import { demoConfigYaml } from '../src/testbed/up-world.ts'
import { startDemoBackends } from './demo-backends.ts'
import { H2_ERROR, cancelStorm, rapidReset, rawH2 } from './h2-raw-client.ts'

const main = new URL('../src/cli/main.ts', import.meta.url).pathname
const GRPC_UNARY = '/spiffe_lb.test.Echo/Unary'
/** The default http2MaxResetStreams, and the TLS frontend's own. */
const DEFAULT_BUDGET = 200
const TLS_BUDGET = 60
/** The pool's idle timeout for backend connections (4 s) and a margin: the crash came then. */
const IDLE_MS = 5000

// Two serve processes, six floods, storms and the backend idle timeout: more than tap's 30 s on a busy machine.
t.setTimeout(180_000)

const { dir, world, ports, stop } = await startDemoBackends('spiffe-lb-h2-abuse-')
t.teardown(stop)
const ca = await createRootCa({ subject: 'CN=frontend test root', keyAlgorithm: 'ECDSA_P256' })
const leaf = await issueCertificate(ca, { subject: 'CN=localhost', dnsNames: ['localhost'], extKeyUsage: ['serverAuth'] })
await writeFile(join(dir, 'frontend.pem'), leaf.chainPem)
await writeFile(join(dir, 'frontend-key.pem'), leaf.keyPem, { mode: 0o600 })

/** The demo config plus an HTTP2 service on /h2/* and a gRPC one; `web` stays HTTPS (HTTP/1.1). */
function config (tls: boolean): string {
  const text = demoConfigYaml(world, ports, { proxyPort: 0, adminPort: 0 })
  const web = /^ {2}- name: web\n(?: {4}.*\n)+/m.exec(text)?.[0] ?? ''
  const http2Service = (name: string): string => web.replace('name: web', `name: ${name}`).replace('protocol: HTTPS', 'protocol: HTTP2')
  // The TLS frontend also sets its own reset budget: the config reaches the proxy.
  const frontend = tls
    ? `, tls: { certFile: ${join(dir, 'frontend.pem')}, keyFile: ${join(dir, 'frontend-key.pem')} }, limits: { http2MaxResetStreams: ${TLS_BUDGET}, http2ResetStreamsWindow: 30s }`
    : ''
  const out = text
    .replace('backendServices:\n', `backendServices:\n${http2Service('h2')}${http2Service('grpc')}`)
    .replace('      pathRules:\n', `      pathRules:\n        - { paths: ["/h2", "/h2/*"], service: h2 }\n        - { paths: ["/spiffe_lb.test.Echo/*"], service: grpc }\n`)
    .replace(/^frontend: \{ listen: ("[^"]+") \}$/m, `frontend: { listen: $1${frontend} }`)
  if (web === '' || !out.includes('service: grpc') || (tls && !out.includes('certFile'))) throw new Error(`the demo config changed shape:\n${text}`)
  return out
}

interface Serve { port: number, admin: string, alive: () => boolean, output: () => string }

async function serve (tls: boolean): Promise<Serve> {
  const file = join(dir, tls ? 'tls.yaml' : 'h2c.yaml')
  await writeFile(file, config(tls))
  const child = spawn(process.execPath, [main, 'serve', '-c', file, '--log-level', 'warn', '--drain-timeout', '1s'], { stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  child.stdout.on('data', (d: Buffer) => { output += d.toString() })
  child.stderr.on('data', (d: Buffer) => { output += d.toString() })
  t.teardown(() => { child.kill('SIGKILL') })
  const end = Date.now() + 30_000
  while (!/admin listening on (http:[^\s"]+)/.test(output) && child.exitCode === null && Date.now() < end) await sleep(50)
  const port = Number(/proxy listening on https?:\/\/[^\s"]*:(\d+)/.exec(output)?.[1])
  const admin = /admin listening on (http:[^\s"]+)/.exec(output)?.[1] ?? ''
  if (!(port > 0) || admin === '') throw new Error(`serve did not start:\n${output}`)
  return { port, admin, alive: () => child.exitCode === null && child.signalCode === null, output: () => output }
}

async function sleep (ms: number): Promise<void> { await new Promise((resolve) => setTimeout(resolve, ms)) }

/** One normal request over a fresh HTTP/2 connection: its status and, for gRPC, grpc-status. */
async function normal (port: number, tls: boolean, path: string): Promise<{ status: number, grpcStatus?: string }> {
  const session = http2.connect(`${tls ? 'https' : 'http'}://127.0.0.1:${port}`, tls ? { ca: ca.certPem, servername: 'localhost' } : {})
  session.on('error', () => {})
  try {
    return await new Promise((resolve, reject) => {
      const grpc = path === GRPC_UNARY
      const req = session.request({ ':path': path, ':authority': 'localhost', ...(grpc ? { ':method': 'POST', 'content-type': 'application/grpc', te: 'trailers' } : {}) })
      let status = 0
      req.on('response', (h) => { status = Number(h[':status']) })
      req.on('trailers', (h) => { resolve({ status, grpcStatus: String(h['grpc-status']) }) })
      req.on('end', () => { resolve({ status }) })
      req.on('error', reject)
      req.resume()
      if (grpc) {
        const message = Buffer.from('still here')
        const frame = Buffer.alloc(5)
        frame.writeUInt32BE(message.length, 1)
        req.end(Buffer.concat([frame, message]))
      } else {
        req.end()
      }
    })
  } finally { session.close() }
}

t.test('rapid reset and cancel storms over h2c and TLS leave serve alive and serving', async (t) => {
  const frontends = await Promise.all([false, true].map(async (tls) => ({ tls, proc: await serve(tls), mode: tls ? 'TLS' : 'h2c' })))
  const targets = [['HTTP2', '/h2/abuse'], ['HTTPS', '/h1/abuse'], ['gRPC', GRPC_UNARY]] as const
  for (const { tls, proc, mode } of frontends) {
    for (const [name, path] of targets) {
      const grpc = path === GRPC_UNARY
      const flood = await rawH2(proc.port, { tls, grpc })
      // gRPC calls name an existing method: grpc-js (the echo backend's gRPC server) throws on
      // a cancelled call to an unknown one, which would end this test process, not serve.
      const sent = await rapidReset(flood, { batch: 20, maxStreams: 20_000, path, numbered: !grpc })
      await flood.closed
      t.equal(flood.events.goaway, H2_ERROR.ENHANCE_YOUR_CALM, `${mode} ${name}: GOAWAY ENHANCE_YOUR_CALM after ${sent} reset streams`)
      // One batch and its round trip past the budget, never the next budget's worth.
      const budget = tls ? TLS_BUDGET : DEFAULT_BUDGET
      t.ok(sent > budget && sent < budget + 60, `${mode} ${name}: cut at the budget (${budget})`)
      // Cancel storms that reach the backends at various points, on connections left open.
      for (const delayMs of [0, 1, 3]) {
        const storm = await rawH2(proc.port, { tls, grpc })
        await cancelStorm(storm, 100, delayMs, path, !grpc)
        t.teardown(() => { storm.close() })
      }
    }
  }
  await sleep(IDLE_MS)
  for (const { tls, proc, mode } of frontends) {
    t.ok(proc.alive(), `${mode}: serve is still running\n${proc.output()}`)
    t.equal((await normal(proc.port, tls, '/h2/ok')).status, 200, `${mode}: the HTTP2 service answers`)
    t.equal((await normal(proc.port, tls, '/ok')).status, 200, `${mode}: the HTTPS service answers`)
    t.same(await normal(proc.port, tls, GRPC_UNARY), { status: 200, grpcStatus: '0' }, `${mode}: the gRPC service answers`)
    const metrics = await (await fetch(`${proc.admin}/metrics`)).text()
    const hits = Number(/^spiffe_lb_frontend_limit_hits_total\{limit="http2MaxResetStreams"\} (\d+)$/m.exec(metrics)?.[1] ?? 0)
    // Over TLS the storms of 100 cancelled streams exceed its budget of 60 too.
    if (tls) t.ok(hits >= targets.length, `${mode}: every flood was counted (${hits})`)
    else t.equal(hits, targets.length, `${mode}: every flood was counted, no storm`)
    t.match(proc.output(), /too many reset streams/, `${mode}: and logged`)
  }
})
