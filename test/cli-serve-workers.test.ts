// `serve --workers 2` followed through its life as a child process: both workers serve through the
// one shared listener, metrics are aggregated on the primary's admin port, a credential rotation
// in the primary and a SIGHUP reload reach every worker, a killed worker is restarted with the
// current credentials and routing, and SIGTERM drains and exits 0 without leaving a worker behind.
import t from 'tap'
import { spawn } from 'node:child_process'
import http from 'node:http'
import https from 'node:https'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { TLSSocket } from 'node:tls'
import { parseWorkers } from '../src/commands/serve/serve.ts'
import { writeCredentialGeneration } from '../src/control/credential-writer.ts'
import { svidPem } from '../src/credentials/testing/credential-fixtures.ts'
import { createRootCa } from '../src/pki/index.ts'
import { TrustDomain } from '../src/spiffe/trust-domain.ts'
import { X509Bundle } from '../src/spiffe/x509-bundle.ts'

const main = new URL('../src/cli/main.ts', import.meta.url).pathname
const TD = 'vm-pool.global.123456789012.workload.id.goog'
const IDENTITY = `spiffe://${TD}/ns/lb/sa/frontend`
const norm = (serial: string): string => serial.replace(/:/g, '').toUpperCase().replace(/^0+(?=.)/, '')

// Generous: three processes start under type stripping, and CI runs test files in parallel.
async function waitFor (what: () => boolean | Promise<boolean>, label: string, ms = 60_000): Promise<void> {
  const end = Date.now() + ms
  while (!(await what())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${label}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

/** GET on a new connection each time, so the cluster listener hands every request out anew. */
async function get (url: string): Promise<{ status: number, body: string }> {
  return await new Promise((resolve, reject) => {
    http.get(url, { agent: false }, (res) => {
      let body = ''
      res.on('data', (d: Buffer) => { body += d.toString() })
      res.on('end', () => { resolve({ status: res.statusCode ?? 0, body }) })
    }).on('error', reject)
  })
}

/** Returns the sum of every series of `name` whose labels contain `labels` in a Prometheus text. */
function metric (text: string, name: string, labels = ''): number {
  let sum = 0
  for (const m of text.matchAll(new RegExp(`^${name}(\\{[^}]*\\})? (\\S+)$`, 'gm'))) {
    if ((m[1] ?? '').includes(labels)) sum += Number(m[2])
  }
  return sum
}

/** An mTLS backend that trusts the pool root and records the serial of every client certificate. */
async function startBackend (name: string, cert: { chainPem: string, keyPem: string }, rootPem: string): Promise<{ port: number, serials: string[], close (): void }> {
  const serials: string[] = []
  const server = https.createServer({ cert: cert.chainPem, key: cert.keyPem, ca: rootPem, requestCert: true, rejectUnauthorized: true }, (_req, res) => {
    res.end(name)
  })
  server.on('secureConnection', (socket: TLSSocket) => { serials.push(norm(socket.getPeerCertificate().serialNumber)) })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return { port: (server.address() as AddressInfo).port, serials, close: () => { server.close(); server.closeAllConnections() } }
}

function configYaml (credentials: string, backendPort: number): string {
  return `project: { id: demo-project, number: "123456789012" }
workloadIdentityPools:
  - id: vm-pool
    mode: TRUST_DOMAIN
    namespaces:
      - id: lb
        managedIdentities:
          - id: frontend
            attestationRules:
              - googleCloudResource: //compute.googleapis.com/projects/123456789012/type/BackendService/*
backendServices:
  - name: web
    tlsSettings: { identity: //${TD}/ns/lb/sa/frontend }
    backends: [{ endpoints: ["127.0.0.1:${backendPort}"] }]
    connectionPool: { maxRequestsPerConnection: 1, tlsSessionResumption: false }
frontend: { listen: "127.0.0.1:0" }
admin: { listen: "127.0.0.1:0" }
credentials: { source: directory, directory: ${credentials} }
`
}

t.test('--workers rejects 0, negatives, fractions and words with exit 2', async (t) => {
  for (const bad of ['0', '-1', '1.5', 'two', '', '1e3']) {
    t.throws(() => parseWorkers(bad), { code: 'ERR_SPIFFE_CLI_BAD_WORKERS', message: new RegExp(`--workers .*${JSON.stringify(bad).replace(/[.*+]/g, '\\$&')}`) }, JSON.stringify(bad))
  }
  t.equal(parseWorkers('3'), 3)
  t.ok(parseWorkers('auto') >= 1)
  const child = spawn(process.execPath, [main, 'serve', '-c', '/nonexistent.yaml', '--workers', '0'], { stdio: ['ignore', 'pipe', 'pipe'] })
  let stderr = ''
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString() })
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve))
  t.equal(code, 2)
  t.match(stderr, /ERR_SPIFFE_CLI_BAD_WORKERS: --workers must be a positive integer or "auto", got "0"/)
})

t.test('serve --workers 2: shared listener, aggregated metrics, rotation, reload, restart, drain', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'spiffe-lb-workers-'))
  const root = await createRootCa({ subject: 'CN=Workers Test Root', notBefore: Date.now() - 3_600_000 })
  const credentials = join(dir, 'workload-spiffe-credentials')
  const publish = async (svid: { chainPem: string, keyPem: string }): Promise<void> => {
    const jwks = X509Bundle.fromPem(TrustDomain.fromString(TD), root.rootPem).toJwks(1)
    await writeCredentialGeneration(credentials, {
      configStatus: '',
      certificates: svid.chainPem,
      privateKey: svid.keyPem,
      caCertificates: root.rootPem,
      trustBundles: `${JSON.stringify({ trust_domains: { [TD]: jwks } })}\n`
    }, Date.now())
  }
  const first = await svidPem(root, IDENTITY)
  await publish(first)
  const a = await startBackend('a', await svidPem(root, `spiffe://${TD}/ns/backends/sa/a`), root.rootPem)
  const b = await startBackend('b', await svidPem(root, `spiffe://${TD}/ns/backends/sa/b`), root.rootPem)
  const config = join(dir, 'config.yaml')
  await writeFile(config, configYaml(credentials, a.port))

  const child = spawn(process.execPath, [main, 'serve', '-c', config, '--workers', '2', '--log-level', 'info', '--drain-timeout', '2s'], { stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  child.stdout.on('data', (d: Buffer) => { output += d.toString() })
  child.stderr.on('data', (d: Buffer) => { output += d.toString() })
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => { resolve(code) }))
  t.teardown(async () => {
    if (!t.passing()) t.comment(output)
    child.kill('SIGKILL')
    a.close()
    b.close()
    await rm(dir, { recursive: true, force: true })
  })
  await waitFor(() => /workers share the proxy listener/.test(output) || child.exitCode !== null, 'serve to listen')
    .catch((e: Error) => { throw new Error(`${e.message}\n${output}`) })
  const proxy = /proxy listening on (http:[^\s"]+)/.exec(output)?.[1] ?? ''
  const admin = /admin listening on (http:[^\s"]+)/.exec(output)?.[1] ?? ''
  const pids = (/\(pids ([\d ]+)\)/.exec(output)?.[1] ?? '').split(' ').map(Number)
  t.equal(pids.length, 2, output)
  t.not(proxy, 'http://127.0.0.1:0', 'the primary reports the real port of the shared listener')
  await waitFor(async () => (await get(`${admin}/readyz`)).status === 200, 'ready once both workers answered')

  // Every worker counts the requests it served under its own slot label (prom-client sums all
  // other series over the workers): both slots serving proves the listener is shared.
  const batch = async (n: number): Promise<string[]> => {
    const bodies: string[] = []
    for (let i = 0; i < n; i++) {
      const r = await get(`${proxy}/x${i}`)
      t.equal(r.status, 200, r.body)
      bodies.push(r.body)
    }
    return bodies
  }
  const perWorker = async (): Promise<[number, number, string]> => {
    const text = (await get(`${admin}/metrics`)).body
    return [metric(text, 'spiffe_lb_worker_requests_total', 'worker="1"'), metric(text, 'spiffe_lb_worker_requests_total', 'worker="2"'), text]
  }
  t.same(new Set(await batch(10)), new Set(['a']))
  const [w1, w2, text] = await perWorker()
  t.ok(w1 > 0 && w2 > 0, `both workers served (${w1} + ${w2})`)
  t.equal(w1 + w2, 10, 'each request counted by exactly one worker')
  t.equal(metric(text, 'spiffe_lb_requests_total'), 10, 'the summed request counter equals the requests made')
  t.equal(metric(text, 'spiffe_lb_backend_handshakes_total', 'result="ok"'), 10, 'one backend handshake per request')
  t.equal(metric(text, 'spiffe_lb_svid_expiry_seconds') > 0, true, 'credential metrics come from the primary')
  t.equal(text.match(/^# TYPE spiffe_lb_requests_total /gm)?.length, 1, 'one family per metric name')
  t.same(new Set(a.serials), new Set([norm(first.serial)]))

  // /debug/peers merges the workers' verdicts: the backend accepted, named by the worker that saw it.
  await waitFor(async () => (JSON.parse((await get(`${admin}/debug/peers`)).body) as { peers: unknown[] }).peers.length > 0, 'the workers\' peer verdicts')
  const seen = JSON.parse((await get(`${admin}/debug/peers`)).body) as { peers: Array<{ endpoint: string, verdict: string, spiffeId?: string, worker?: string }> }
  t.match(seen.peers, [{ endpoint: `127.0.0.1:${a.port}`, verdict: 'accept', spiffeId: `spiffe://${TD}/ns/backends/sa/a`, worker: /^[12]$/ }])

  // Rotate in the primary's credential directory: every worker presents the new SVID next.
  const second = await svidPem(root, IDENTITY)
  await publish(second)
  await waitFor(async () => JSON.parse((await get(`${admin}/status`)).body).identity?.generation === 2, 'the primary to load the rotation')
  const before = a.serials.length
  await batch(10)
  const [r1, r2] = await perWorker()
  t.ok(r1 > w1 && r2 > w2, 'both workers served after the rotation')
  t.same(a.serials.slice(before), Array(10).fill(norm(second.serial)), 'every new connection presents the rotated svid')

  // SIGHUP: the new routing applies in every worker.
  await writeFile(config, configYaml(credentials, b.port))
  child.kill('SIGHUP')
  await waitFor(() => output.includes('config reloaded'), 'the reload').catch((e: Error) => { throw new Error(`${e.message}\n${output}`) })
  t.same(new Set(await batch(10)), new Set(['b']), 'every request goes to the new backend')
  const [h1, h2] = await perWorker()
  t.ok(h1 > r1 && h2 > r2, 'both workers served after the reload')
  t.same(new Set(b.serials), new Set([norm(second.serial)]))

  // A worker that dies is restarted and gets the current snapshot and routing.
  process.kill(pids[0] ?? 0, 'SIGKILL')
  await waitFor(() => /"msg":"worker restarted"/.test(output), 'the worker restart').catch((e: Error) => { throw new Error(`${e.message}\n${output}`) })
  t.match(output, /"worker":"1".*"signal":"SIGKILL".*worker died unexpectedly; restarting it/)
  const restarted = Number(/"pid":(\d+),[^\n]*"msg":"worker restarted"/.exec(output)?.[1])
  t.not(restarted, pids[0])
  const fromB = b.serials.length
  t.same(new Set(await batch(10)), new Set(['b']))
  t.same(new Set(b.serials.slice(fromB)), new Set([norm(second.serial)]))
  const [k1] = await perWorker()
  t.ok(k1 > 0, 'the restarted worker serves')

  child.kill('SIGTERM')
  t.equal(await exited, 0)
  t.match(output, /spiffe-lb stopped/)
  for (const pid of [pids[1] ?? 0, restarted]) {
    t.throws(() => process.kill(pid, 0), { code: 'ESRCH' }, `worker ${pid} is gone`)
  }
  t.equal(await readFile(config, 'utf8'), configYaml(credentials, b.port))
})
