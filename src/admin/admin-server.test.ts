import t from 'tap'
import { request } from 'node:http'
import { connect } from 'node:net'
import { ManualClock } from '../internal/clock.ts'
import { createAdminServer } from './admin-server.ts'
import { createMetrics } from './metrics.ts'
import type { AdminProviders, IdentityStatus, ServiceHealth } from './status.ts'

const HOUR = 3_600_000
const clock = new ManualClock(Date.UTC(2026, 2, 1))
const now = clock.now()
const validId: IdentityStatus = {
  spiffeId: 'spiffe://demo.global.1.workload.id.goog/ns/lb/sa/frontend',
  notBefore: now - HOUR,
  notAfter: now + 23 * HOUR,
  nextRotationAt: now + 11 * HOUR,
  source: 'issuer',
  generation: 3
}
const healthy: ServiceHealth[] = [{
  name: 'web',
  policy: 'ROUND_ROBIN',
  endpoints: [
    { endpoint: '127.0.0.1:9443', healthy: true, inFlight: 0, peerSpiffeId: 'spiffe://demo.global.1.workload.id.goog/ns/app/sa/web' },
    { endpoint: '127.0.0.1:9444', healthy: false, reason: 'connect ECONNREFUSED (ECONNREFUSED)', inFlight: 0 }
  ]
}]

interface State { identity: IdentityStatus | undefined, services: ServiceHealth[] }
const state: State = { identity: validId, services: healthy }
const providers: AdminProviders = {
  identity: () => state.identity,
  trustDomains: () => [{ trustDomain: 'demo.global.1.workload.id.goog', fingerprints: ['ab'.repeat(32)] }, { trustDomain: 'example.org', fingerprints: ['cd'.repeat(32), 'ef'.repeat(32)] }],
  services: () => state.services
}
const metrics = createMetrics({ clock })
const admin = createAdminServer({ host: '127.0.0.1', port: 0, metrics, providers, clock })
const { port } = await admin.listen()
t.teardown(() => admin.close())

function get (path: string, method = 'GET'): Promise<{ status: number, type: string, body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method, agent: false }, (res) => {
      let body = ''
      res.on('data', (c: Buffer) => { body += c.toString() })
      res.on('end', () => { resolve({ status: res.statusCode ?? 0, type: res.headers['content-type'] ?? '', body }) })
    })
    req.on('error', reject)
    req.end()
  })
}

t.test('/healthz answers 200 while the process runs', async (t) => {
  state.identity = undefined
  state.services = []
  t.match(await get('/healthz'), { status: 200, body: 'ok\n' })
  state.identity = validId
  state.services = healthy
})

const readyCases: Array<[string, IdentityStatus | undefined, ServiceHealth[], number, string]> = [
  ['valid svid and a healthy endpoint', validId, healthy, 200, 'ready\n'],
  ['no svid yet', undefined, healthy, 503, 'not ready: no svid has been accepted yet\n'],
  ['expired svid', { ...validId, notAfter: now - 1000 }, healthy, 503,
    `not ready: svid ${validId.spiffeId} expired at ${new Date(now - 1000).toISOString()}\n`],
  ['svid not yet valid', { ...validId, notBefore: now + 1000 }, healthy, 503,
    `not ready: svid ${validId.spiffeId} is not valid before ${new Date(now + 1000).toISOString()}\n`],
  ['no healthy endpoint', validId, [{ name: 'web', endpoints: [{ endpoint: 'x:1', healthy: false }] }, { name: 'api', endpoints: [] }], 503,
    'not ready: no healthy endpoint in any backend service (web, api)\n'],
  ['neither', undefined, [], 503, 'not ready: no svid has been accepted yet; no backend service is configured\n']
]
for (const [name, identity, services, status, body] of readyCases) {
  t.test(`/readyz: ${name}`, async (t) => {
    state.identity = identity
    state.services = services
    t.match(await get('/readyz'), { status, body })
    state.identity = validId
    state.services = healthy
  })
}

t.test('/status reports identity, trust domains with anchor fingerprints and endpoint health', async (t) => {
  const res = await get('/status')
  t.equal(res.status, 200)
  t.equal(res.type, 'application/json')
  t.same(JSON.parse(res.body), {
    identity: {
      spiffeId: validId.spiffeId,
      notBefore: new Date(now - HOUR).toISOString(),
      svidExpiry: new Date(now + 23 * HOUR).toISOString(),
      expiresInSeconds: 23 * 3600,
      nextRotation: new Date(now + 11 * HOUR).toISOString(),
      source: 'issuer',
      generation: 3
    },
    trustDomains: [
      { trustDomain: 'demo.global.1.workload.id.goog', anchorFingerprints: ['ab'.repeat(32)] },
      { trustDomain: 'example.org', anchorFingerprints: ['cd'.repeat(32), 'ef'.repeat(32)] }
    ],
    services: [{ name: 'web', policy: 'ROUND_ROBIN', healthyEndpoints: 1, endpoints: healthy[0]!.endpoints }],
    ready: { ready: true, reasons: [] }
  })
})

t.test('/metrics serves the registry with the SVID gauges fed by the identity provider', async (t) => {
  metrics.setEndpointHealthy('web', '127.0.0.1:9443', true)
  const res = await get('/metrics')
  t.equal(res.status, 200)
  t.match(res.type, /^text\/plain; version=0\.0\.4/)
  t.ok(res.body.includes(`spiffe_lb_svid_expiry_seconds{spiffe_id="${validId.spiffeId}"} ${23 * 3600}`))
  t.ok(res.body.includes(`spiffe_lb_svid_next_rotation_seconds{spiffe_id="${validId.spiffeId}"} ${11 * 3600}`))
  t.ok(res.body.includes('spiffe_lb_endpoint_healthy{service="web",endpoint="127.0.0.1:9443"} 1'))
})

t.test('unknown paths are 404, writes are 405', async (t) => {
  t.match(await get('/nope'), { status: 404, body: /no admin endpoint \/nope/ })
  t.match(await get('/readyz', 'POST'), { status: 405 })
  t.match(await get('/metrics?x=1'), { status: 200 })
})

/** Sends one raw request with `hostLine` (or none) and returns the status code. */
async function statusFor (listenPort: number, hostLine: string | undefined, version = '1.1'): Promise<number> {
  const socket = connect(listenPort, '127.0.0.1')
  let text = ''
  socket.on('data', (d: Buffer) => { text += d.toString('latin1') })
  socket.write(`GET /status HTTP/${version}\r\n${hostLine === undefined ? '' : `Host: ${hostLine}\r\n`}Connection: close\r\n\r\n`)
  await new Promise((resolve) => { socket.once('close', resolve) })
  return Number(/^HTTP\/1\.[01] (\d{3})/.exec(text)?.[1] ?? 0)
}

t.test('only an ip literal, localhost or a configured name is answered as Host (DNS rebinding)', async (t) => {
  const named = createAdminServer({ host: '127.0.0.1', port: 0, metrics: createMetrics({ clock }), providers, clock, allowedHosts: ['Metrics.Internal.Example'] })
  const { port: namedPort } = await named.listen()
  t.teardown(() => named.close())
  const answered = ['127.0.0.1', `127.0.0.1:${port}`, '10.1.2.3:9901', '[::1]', `[::1]:${port}`, '[2001:db8::1]:9901', 'localhost', `LOCALHOST:${port}`]
  for (const host of answered) t.equal(await statusFor(port, host), 200, `Host: ${host}`)
  const refused = ['evil.example', `evil.example:${port}`, 'localhost.evil.example', '127.0.0.1.nip.io', 'metrics.internal.example',
    '[::1', '[evil.example]:80', '127.0.0.1:80:80', '127.0.0.1:http', '::1', '']
  for (const host of refused) t.equal(await statusFor(port, host), 421, `Host: ${JSON.stringify(host)}`)
  t.equal(await statusFor(port, undefined, '1.0'), 421, 'an HTTP/1.0 request without Host')
  t.equal(await statusFor(namedPort, 'metrics.internal.example:9901'), 200, 'a configured name (any case)')
  t.equal(await statusFor(namedPort, 'other.internal.example'), 421)
  t.equal(await statusFor(namedPort, '127.0.0.1'), 200)
})
