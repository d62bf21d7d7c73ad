// End to end over real mTLS: client → proxy (cleartext) → SPIFFE mTLS connector → echo backends
// in a trusted domain, a second trusted domain, an untrusted domain, and an impostor whose
// a.test ID is signed by b.test's CA (one pooled CA list would accept it; we must not).
import t from 'tap'
import { createMetrics } from '../src/admin/metrics.ts'
import { ManualClock } from '../src/internal/clock.ts'
import { issueSvidCertificate } from '../src/pki/index.ts'
import { X509Svid } from '../src/spiffe/x509-svid.ts'
import { createBackendConnector } from '../src/tls/backend-connector.ts'
import { startEchoBackend, type EchoBackend } from '../src/testbed/echo-backend.ts'
import { eventually, fetchText, startTestProxy, testService } from '../src/proxy/test-support.ts'
import { TestSnapshots, makeDomain, makeSvid } from './tls-fixtures.ts'

const [a, b, evil] = await Promise.all([makeDomain('a.test'), makeDomain('b.test'), makeDomain('evil.test')])
const lbSvid = await makeSvid(a, '/lb/frontend')

async function echo (name: string, svid: X509Svid): Promise<EchoBackend> {
  // Each backend trusts the proxy's domain, so only the proxy's verdict on the backend matters.
  const backend = await startEchoBackend({ listen: '127.0.0.1:0', name, snapshots: new TestSnapshots(svid, [a.bundle]) })
  t.teardown(() => backend.close(0))
  return backend
}

const impostorIssued = await issueSvidCertificate(b.ca, { uri: 'spiffe://a.test/backend/impostor', lifetimeMs: 3_600_000 })
const backends = {
  web: await echo('web', await makeSvid(a, '/backend/web')),
  partner: await echo('partner', await makeSvid(b, '/backend/partner')),
  untrusted: await echo('untrusted', await makeSvid(evil, '/backend/x')),
  impostor: await echo('impostor', X509Svid.fromPem(impostorIssued.chainPem, impostorIssued.keyPem, 'impostor'))
}

const metrics = createMetrics()
const connector = createBackendConnector({
  snapshots: new TestSnapshots(lbSvid, [a.bundle, b.bundle]),
  onHandshake: (e) => { metrics.observeHandshake(e) }
})
t.teardown(() => { connector.close() })
const names = Object.keys(backends) as Array<keyof typeof backends>
const { proxy, port, log } = await startTestProxy(t, {
  connect: connector,
  metrics,
  clock: new ManualClock(Date.now()), // health checks run only when the test asks (checkHealth)
  services: names.map((n) => testService(n, [backends[n]], {
    protocol: 'HTTPS',
    healthCheck: { path: '/healthz', intervalMs: 1000, timeoutMs: 5000, healthyThreshold: 1, unhealthyThreshold: 1 }
  })),
  urlMap: {
    hostRules: names.map((n) => ({ hosts: [`${n}.test`], pathMatcher: n })),
    pathMatchers: names.map((n) => ({ name: n, defaultService: n }))
  }
})

const lastLog = async (n: number): Promise<Record<string, unknown> | undefined> => {
  await eventually(() => log.requests().length >= n, 'the access-log line')
  return log.requests()[n - 1]
}

t.test('200 from a backend whose SVID verifies; each side sees the other\'s SPIFFE ID', async (t) => {
  const res = await fetchText(port, '/hello', { host: 'web.test' })
  t.equal(res.status, 200)
  t.match(JSON.parse(res.body), { peer: 'spiffe://a.test/lb/frontend', name: 'web', path: '/hello' })
  t.match(await lastLog(1), { status: 200, service: 'web', backendSpiffeId: 'spiffe://a.test/backend/web' })
  const again = await fetchText(port, '/again', { host: 'web.test' })
  t.equal(again.status, 200, 'the pooled connection is reused')
})

t.test('200 from a backend of a second trusted domain, verified against that domain\'s bundle', async (t) => {
  const res = await fetchText(port, '/', { host: 'partner.test' })
  t.equal(res.status, 200)
  t.match(await lastLog(3), { status: 200, backendSpiffeId: 'spiffe://b.test/backend/partner' })
})

const refused: Array<[keyof typeof backends, RegExp]> = [
  ['untrusted', /evil\.test/],
  ['impostor', /a\.test/]
]
for (const [name, mentions] of refused) {
  t.test(`502 naming the reason for the ${name} backend; it never receives the request`, async (t) => {
    const res = await fetchText(port, '/secret', { host: `${name}.test` })
    t.equal(res.status, 502)
    const line = res.body.replace(/\n$/, '')
    t.notMatch(line, /\n/, 'one line')
    t.match(line, new RegExp(`^backend 127\\.0\\.0\\.1:${backends[name].port} rejected: .+ \\((ERR_SPIFFE_[A-Z_]+)\\)$`))
    t.notMatch(line, /\(ERR_SPIFFE_TLS_PEER_REJECTED\)$/, 'the precise rule, not the generic rejection')
    t.match(line, mentions)
    t.equal(backends[name].stats().requests, 0, 'no request reached the refused backend')
    const status = proxy.status().services.find((s) => s.name === name)
    t.match(status?.endpoints[0], { healthy: false, reason: /rejected/ }, 'passively ejected')
  })
}

t.test('handshake metrics count accepted and refused backends by trust domain and reason', async (t) => {
  const text = await metrics.text()
  t.ok(text.includes('spiffe_lb_backend_handshakes_total{result="ok",trust_domain="a.test",resumed="false"}'))
  t.ok(text.includes('spiffe_lb_backend_handshakes_total{result="ok",trust_domain="b.test",resumed="false"}'))
  t.match(text, /spiffe_lb_backend_handshakes_total\{result="ERR_SPIFFE_[A-Z_]+",trust_domain="",resumed="false"\} [1-9]/)
  t.match(text, /spiffe_lb_requests_total\{service="untrusted",code="502",endpoint="127\.0\.0\.1:\d+"\} 1/)
})

t.test('active health checks run over the same mTLS connector', async (t) => {
  await proxy.checkHealth()
  const health = Object.fromEntries(proxy.status().services.map((s) => [s.name, s.endpoints[0]]))
  t.match(health.web, { healthy: true, peerSpiffeId: 'spiffe://a.test/backend/web' })
  t.match(health.partner, { healthy: true, peerSpiffeId: 'spiffe://b.test/backend/partner' })
  // The reason is the check's own (the endpoint was already ejected by the requests above).
  t.match(health.untrusted, { healthy: false, reason: /rejected.*ERR_SPIFFE_TLS_PEER_REJECTED/ })
  t.match(health.impostor, { healthy: false, reason: /rejected/ })
  t.ok(backends.web.stats().requests >= 1, 'the trusted backend answered the check')
})
