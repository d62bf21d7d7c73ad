import t from 'tap'
import { request } from 'node:http'
import { createAdminServer } from '../src/admin/admin-server.ts'
import { createMetrics } from '../src/admin/metrics.ts'
import { eventually, fetchText, startBackend, startTestProxy, testService } from '../src/proxy/test-support.ts'

function adminGet (port: number, path: string): Promise<{ status: number, body: string }> {
  return new Promise((resolve, reject) => {
    request({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      let body = ''
      res.on('data', (c: Buffer) => { body += c.toString() })
      res.on('end', () => { resolve({ status: res.statusCode ?? 0, body }) })
    }).on('error', reject).end()
  })
}

t.test('the proxy feeds request and endpoint-health metrics; readyz follows endpoint health', async (t) => {
  const a = await startBackend('a')
  const b = await startBackend('b')
  t.teardown(() => Promise.all([a.close(), b.close()]))
  const metrics = createMetrics()
  const { proxy, port } = await startTestProxy(t, {
    metrics,
    services: [testService('web', [a, b], {
      healthCheck: { path: '/healthz', intervalMs: 40, timeoutMs: 5000, healthyThreshold: 1, unhealthyThreshold: 1 }
    })],
    urlMap: { hostRules: [{ hosts: ['web.test'], pathMatcher: 'm' }], pathMatchers: [{ name: 'm', defaultService: 'web' }] }
  })
  const admin = createAdminServer({
    host: '127.0.0.1',
    port: 0,
    metrics,
    providers: {
      identity: () => ({ spiffeId: 'spiffe://a.test/lb', notBefore: Date.now() - 1000, notAfter: Date.now() + 3_600_000 }),
      trustDomains: () => [],
      services: () => proxy.status().services
    }
  })
  const { port: adminPort } = await admin.listen()
  t.teardown(() => admin.close())

  for (let i = 0; i < 4; i++) t.equal((await fetchText(port, '/', { host: 'web.test' })).status, 200)
  t.equal((await fetchText(port, '/', { host: 'other.test' })).status, 404)
  await eventually(() => proxy.status().inFlight === 0, 'requests to be accounted')
  let text = (await adminGet(adminPort, '/metrics')).body
  const line = (s: string): boolean => text.split('\n').includes(s)
  t.equal(a.seen.length + b.seen.length, 4)
  for (const x of [a, b]) {
    if (x.seen.length === 0) continue
    t.ok(line(`spiffe_lb_requests_total{service="web",code="200",endpoint="127.0.0.1:${x.port}"} ${x.seen.length}`), `per-endpoint count, ${x.name}`)
  }
  t.ok(line('spiffe_lb_requests_total{service="",code="404",endpoint=""} 1'), 'unrouted requests')
  t.ok(line('spiffe_lb_request_duration_seconds_count{service="web"} 4'))
  t.ok(line(`spiffe_lb_endpoint_healthy{service="web",endpoint="127.0.0.1:${b.port}"} 1`))
  t.equal((await adminGet(adminPort, '/readyz')).status, 200)

  await b.kill()
  await eventually(async () => (await adminGet(adminPort, '/metrics')).body
    .includes(`spiffe_lb_endpoint_healthy{service="web",endpoint="127.0.0.1:${b.port}"} 0`), 'the gauge to drop to 0')
  t.equal((await adminGet(adminPort, '/readyz')).status, 200, 'still ready with one healthy endpoint')
  await a.kill()
  await eventually(async () => (await adminGet(adminPort, '/readyz')).status === 503, 'readyz to fail')
  t.match((await adminGet(adminPort, '/readyz')).body, 'not ready: no healthy endpoint in any backend service (web)')
  const status = JSON.parse((await adminGet(adminPort, '/status')).body) as { services: Array<{ healthyEndpoints: number }> }
  t.equal(status.services[0]?.healthyEndpoints, 0)

  // A reload that drops an endpoint removes its gauge series.
  t.ok(text.includes(`spiffe_lb_endpoint_healthy{service="web",endpoint="127.0.0.1:${b.port}"}`))
  await proxy.reload({ services: [testService('web', [a])], urlMap: { defaultService: 'web' } })
  text = (await adminGet(adminPort, '/metrics')).body
  t.notOk(text.includes(`spiffe_lb_endpoint_healthy{service="web",endpoint="127.0.0.1:${b.port}"}`),
    'the dropped endpoint has no health series')
})
