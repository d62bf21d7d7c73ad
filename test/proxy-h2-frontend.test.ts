// The frontend speaks HTTP/1.1 and h2c (prior knowledge) on the cleartext port, h2 and
// http/1.1 by ALPN on TLS; any frontend protocol reaches any backend protocol, and the access
// log names both sides. curl is the real peer: --http2-prior-knowledge and --http2.
import t from 'tap'
import { execFile } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import http2 from 'node:http2'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { createRootCa, issueCertificate } from '../src/pki/index.ts'
import { createBackendConnector } from '../src/tls/backend-connector.ts'
import { startEchoBackend } from '../src/testbed/echo-backend.ts'
import { eventually, fetchText, startTestProxy, testService } from '../src/proxy/test-support.ts'
import { TestSnapshots, makeDomain, makeSvid } from './tls-fixtures.ts'

const run = promisify(execFile)
const a = await makeDomain('a.test')
const backend = await startEchoBackend({ listen: '127.0.0.1:0', name: 'echo', snapshots: new TestSnapshots(await makeSvid(a, '/backend/echo'), [a.bundle]) })
t.teardown(() => backend.close(0))
const connect = createBackendConnector({ snapshots: new TestSnapshots(await makeSvid(a, '/lb'), [a.bundle]) })
t.teardown(() => { connect.close() })
const routing = {
  connect,
  services: [testService('h1', [backend], { protocol: 'HTTPS' }), testService('h2', [backend], { protocol: 'HTTP2' })],
  urlMap: { defaultService: 'h1', hostRules: [{ hosts: ['h2.test'], pathMatcher: 'h2' }], pathMatchers: [{ name: 'h2', defaultService: 'h2' }] }
}
const ca = await createRootCa({ subject: 'CN=frontend test root', keyAlgorithm: 'ECDSA_P256' })
const leaf = await issueCertificate(ca, { subject: 'CN=localhost', dnsNames: ['localhost'], extKeyUsage: ['serverAuth'] })
const dir = await mkdtemp(join(tmpdir(), 'spiffe-lb-h2-'))
t.teardown(() => rm(dir, { recursive: true, force: true }))
const caFile = join(dir, 'ca.pem')
await writeFile(caFile, ca.certPem)

/** One HTTP/2 GET over `authority` (h2c for http:, h2 by ALPN for https:); resolves with the JSON body. */
async function h2get (authority: string, host: string, path: string): Promise<{ status: number, body: Record<string, unknown> }> {
  const session = http2.connect(authority, authority.startsWith('https') ? { ca: ca.certPem, servername: 'localhost' } : {})
  try {
    return await new Promise((resolve, reject) => {
      const req = session.request({ ':path': path, ':authority': host })
      let status = 0
      let text = ''
      req.on('response', (h) => { status = Number(h[':status']) })
      req.on('data', (c: Buffer) => { text += c.toString() })
      req.on('end', () => { resolve({ status, body: JSON.parse(text) as Record<string, unknown> }) })
      req.on('error', reject)
      req.end()
    })
  } finally { session.close() }
}

t.test('cleartext port: h2c prior knowledge and HTTP/1.1 reach HTTPS and HTTP2 backends', async (t) => {
  const { port, log } = await startTestProxy(t, routing)
  const cases = [
    ['h2c', 'h1.test', '1.1'], ['h2c', 'h2.test', '2.0'], ['h1', 'h1.test', '1.1'], ['h1', 'h2.test', '2.0']
  ] as const
  for (const [client, host, backendVersion] of cases) {
    const body = client === 'h2c'
      ? (await h2get(`http://127.0.0.1:${port}`, host, '/x')).body
      : JSON.parse((await fetchText(port, '/x', { host })).body) as Record<string, unknown>
    t.match(body, { httpVersion: backendVersion, peer: 'spiffe://a.test/lb' }, `${client} → ${host}`)
  }
  await eventually(() => log.requests().length === 4, 'four access-log lines')
  t.match(log.requests().map((r) => [r.protocol, r.backendProtocol]), [
    ['HTTP/2.0', 'HTTP/1.1'], ['HTTP/2.0', 'HTTP/2.0'], ['HTTP/1.1', 'HTTP/1.1'], ['HTTP/1.1', 'HTTP/2.0']])
})

t.test('TLS frontend negotiates h2 by ALPN', async (t) => {
  const { port } = await startTestProxy(t, { ...routing, frontend: { host: '127.0.0.1', port: 0, tls: { cert: leaf.chainPem, key: leaf.keyPem } } })
  const r = await h2get(`https://127.0.0.1:${port}`, 'h2.test', '/tls')
  t.equal(r.status, 200)
  t.match(r.body, { httpVersion: '2.0', path: '/tls' })
})

t.test('curl --http2-prior-knowledge (cleartext) and curl --http2 (TLS) through the proxy', async (t) => {
  const plain = await startTestProxy(t, routing)
  const secure = await startTestProxy(t, { ...routing, frontend: { host: '127.0.0.1', port: 0, tls: { cert: leaf.chainPem, key: leaf.keyPem } } })
  const fmt = ['-s', '-o', '-', '-w', '\n%{http_version}']
  const c1 = await run('curl', [...fmt, '--http2-prior-knowledge', '-H', 'host: h2.test', `http://127.0.0.1:${plain.port}/curl`])
  const [body1, v1] = c1.stdout.split('\n')
  t.equal(v1, '2', 'curl spoke HTTP/2 to the cleartext port')
  t.match(JSON.parse(body1 ?? ''), { httpVersion: '2.0', path: '/curl' })
  const c2 = await run('curl', [...fmt, '--http2', '--cacert', caFile, '--resolve', `localhost:${secure.port}:127.0.0.1`, `https://localhost:${secure.port}/tls`])
  const [body2, v2] = c2.stdout.split('\n')
  t.equal(v2, '2', 'curl negotiated h2 with the TLS frontend')
  t.match(JSON.parse(body2 ?? ''), { httpVersion: '1.1', path: '/tls' })
  const c3 = await run('curl', [...fmt, '--http1.1', '--cacert', caFile, '--resolve', `localhost:${secure.port}:127.0.0.1`, `https://localhost:${secure.port}/one`])
  t.equal(c3.stdout.split('\n')[1], '1.1', 'and http/1.1 when the client offers only that')
})
