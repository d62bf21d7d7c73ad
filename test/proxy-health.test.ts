import t from 'tap'
import { ManualClock } from '../src/internal/clock.ts'
import { eventually, fetchText, startBackend, startTestProxy, testService } from '../src/proxy/test-support.ts'
import type { HealthCheckOptions } from '../src/proxy/types.ts'

// A generous timeout: a dead endpoint fails at once (refused), a live one must not flap on a busy CI box.
const fastChecks: HealthCheckOptions = { path: '/healthz', intervalMs: 40, timeoutMs: 5000, healthyThreshold: 2, unhealthyThreshold: 2 }

t.test('active checks eject a killed endpoint and re-admit it once revived', async (t) => {
  const a = await startBackend('a')
  const b = await startBackend('b')
  t.teardown(() => Promise.all([a.close(), b.close()]))
  const { proxy, port, log } = await startTestProxy(t, {
    services: [testService('web', [a, b], { healthCheck: fastChecks })],
    urlMap: { defaultService: 'web' }
  })
  const healthOf = (name: 'a' | 'b'): boolean | undefined =>
    proxy.status().services[0]?.endpoints.find((e) => e.endpoint === `127.0.0.1:${(name === 'a' ? a : b).port}`)?.healthy

  await b.kill()
  await eventually(() => healthOf('b') === false, 'b ejected by the health check')
  t.equal(healthOf('a'), true)
  const before = a.seen.length
  for (let i = 0; i < 6; i++) t.equal((await fetchText(port, `/r${i}`)).body, `a GET /r${i}`)
  t.equal(a.seen.length - before, 6, 'all traffic goes to the healthy endpoint')
  t.match(log.entries.find((e) => e.msg === 'endpoint unhealthy'), { service: 'web', endpoint: `127.0.0.1:${b.port}`, healthy: false })

  await b.revive()
  await eventually(() => healthOf('b') === true, 'b re-admitted by the health check')
  const seenB = b.seen.length
  for (let i = 0; i < 4; i++) await fetchText(port, `/s${i}`)
  t.ok(b.seen.length > seenB, 'traffic reaches the revived endpoint again')
  t.match(log.entries.find((e) => e.msg === 'endpoint healthy'), { endpoint: `127.0.0.1:${b.port}`, healthy: true })
})

t.test('thresholds: consecutive results needed to flip, any 2xx is healthy', async (t) => {
  let healthStatus = 200
  const b = await startBackend('b', (req, res) => {
    if (req.url === '/healthz') { res.writeHead(healthStatus).end(); return }
    res.end('b')
  })
  t.teardown(() => b.close())
  // A manual clock never fires the interval, so only checkHealth() runs checks: exact counting.
  const { proxy } = await startTestProxy(t, {
    clock: new ManualClock(Date.now()),
    services: [testService('web', [b], { healthCheck: { ...fastChecks, healthyThreshold: 3, unhealthyThreshold: 2 } })],
    urlMap: { defaultService: 'web' }
  })
  const ep = (): { healthy: boolean, reason?: string } | undefined => proxy.status().services[0]?.endpoints[0]
  const steps: Array<[number, boolean]> = [
    [500, true], [500, false], [204, false], [200, false], [200, true], [503, true], [200, true], [503, true], [503, false]
  ]
  for (const [i, [answer, healthy]] of steps.entries()) {
    healthStatus = answer
    await proxy.checkHealth()
    t.equal(ep()?.healthy, healthy, `step ${i}: after a ${answer} the endpoint is ${healthy ? 'healthy' : 'unhealthy'}`)
  }
  t.equal(ep()?.reason, 'health check answered 503')
})

t.test('a check that does not answer in time fails', async (t) => {
  const b = await startBackend('b', (req, res) => { if (req.url !== '/healthz') res.end('b') })
  t.teardown(() => b.close())
  const { proxy } = await startTestProxy(t, {
    services: [testService('web', [b], { healthCheck: { ...fastChecks, intervalMs: 60_000, timeoutMs: 100, unhealthyThreshold: 1 } })],
    urlMap: { defaultService: 'web' }
  })
  await proxy.checkHealth()
  t.match(proxy.status().services[0]?.endpoints[0], { healthy: false, reason: 'health check timed out after 100 ms' })
})

t.test('passive ejection waits for the active checks to re-admit', async (t) => {
  const b = await startBackend('b')
  t.teardown(() => b.close())
  await b.kill()
  const { proxy, port } = await startTestProxy(t, {
    clock: new ManualClock(Date.now()),
    services: [testService('web', [b], { healthCheck: { ...fastChecks, healthyThreshold: 2 } })],
    urlMap: { defaultService: 'web' }
  })
  t.equal((await fetchText(port, '/')).status, 502)
  t.equal(proxy.status().services[0]?.endpoints[0]?.healthy, false, 'ejected on the connect failure')
  await b.revive()
  await proxy.checkHealth()
  t.equal(proxy.status().services[0]?.endpoints[0]?.healthy, false, 'one good check is not enough')
  await proxy.checkHealth()
  t.equal(proxy.status().services[0]?.endpoints[0]?.healthy, true)
  t.equal((await fetchText(port, '/')).status, 200)
})
