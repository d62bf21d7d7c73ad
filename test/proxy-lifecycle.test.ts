import t from 'tap'
import { connect } from 'node:net'
import { createProxy } from '../src/proxy/proxy.ts'
import { plainConnector } from '../src/proxy/plain-connector.ts'
import { eventually, fetchText, gate, startBackend, startTestProxy, testService, type TestBackend } from '../src/proxy/test-support.ts'

type Scope = { teardown: (fn: () => unknown) => void }

async function held (t: Scope, name: string): Promise<{ backend: TestBackend, release: () => void, arrived: Promise<void> }> {
  const go = gate()
  const arrived = gate()
  const backend = await startBackend(name, (req, res) => {
    if (req.url === '/slow') {
      arrived.open()
      void go.opened.then(() => res.end(`${name} finished`))
      return
    }
    res.end(`${name} ${req.url ?? ''}`)
  })
  t.teardown(() => backend.close())
  return { backend, release: go.open, arrived: arrived.opened }
}

t.test('reload swaps routing at once; in-flight requests finish on the old pools', async (t) => {
  const oldB = await held(t, 'old')
  const fresh = await startBackend('new')
  t.teardown(() => fresh.close())
  const { proxy, port } = await startTestProxy(t, {
    services: [testService('web', [oldB.backend])],
    urlMap: { defaultService: 'web' }
  })
  t.equal((await fetchText(port, '/a')).body, 'old /a')
  const slow = fetchText(port, '/slow')
  await oldB.arrived

  let reloaded = false
  const reload = proxy.reload({
    services: [testService('web2', [fresh]), testService('web', [fresh])],
    urlMap: { defaultService: 'web', hostRules: [{ hosts: ['two.test'], pathMatcher: 'm' }], pathMatchers: [{ name: 'm', defaultService: 'web2' }] }
  }).then(() => { reloaded = true })

  t.equal((await fetchText(port, '/b')).body, 'new GET /b', 'new requests use the new routing')
  t.equal((await fetchText(port, '/c', { host: 'two.test' })).body, 'new GET /c')
  t.same(proxy.status().services.map((s) => s.name), ['web2', 'web'])
  t.notOk(reloaded, 'the old pools stay open while a request runs on them')
  oldB.release()
  t.equal((await slow).body, 'old finished', 'the in-flight request completed on the old endpoint')
  await reload
  t.ok(reloaded, 'reload resolves once the old pools are closed')
})

t.test('an invalid reload is refused and the running routing stays', async (t) => {
  const b = await startBackend('b')
  t.teardown(() => b.close())
  const { proxy, port } = await startTestProxy(t, { services: [testService('web', [b])], urlMap: { defaultService: 'web' } })
  await t.rejects(proxy.reload({ services: [testService('web', [b])], urlMap: { defaultService: 'nope' } }),
    { code: 'ERR_SPIFFE_PROXY_UNKNOWN_SERVICE', at: 'urlMap.defaultService' })
  await t.rejects(proxy.reload({ services: [testService('web', [b]), testService('web', [b])], urlMap: {} }),
    { code: 'ERR_SPIFFE_PROXY_DUPLICATE_SERVICE', at: 'services[1].name' })
  t.equal((await fetchText(port, '/still')).body, 'b GET /still')
})

t.test('an ejected endpoint stays out across a reload', async (t) => {
  const gone = await startBackend('gone')
  await gone.kill()
  const live = await startBackend('live')
  t.teardown(() => live.close())
  const { proxy, port } = await startTestProxy(t, { services: [testService('web', [gone, live])], urlMap: { defaultService: 'web' } })
  t.equal((await fetchText(port, '/')).body, 'live GET /')
  const health = (): boolean[] | undefined => proxy.status().services[0]?.endpoints.map((e) => e.healthy)
  t.same(health(), [false, true])
  await proxy.reload({ services: [testService('web', [gone, live])], urlMap: { defaultService: 'web' } })
  t.same(health(), [false, true], 'still ejected after the reload')
  t.match(proxy.status().services[0]?.endpoints[0]?.reason, /ECONNREFUSED/)
})

t.test('close drains an in-flight request and refuses new connections', async (t) => {
  const slow = await held(t, 'slow')
  const proxy = createProxy({
    frontend: { host: '127.0.0.1', port: 0 },
    connect: plainConnector(),
    services: [testService('web', [slow.backend])],
    urlMap: { defaultService: 'web' }
  })
  const { port } = await proxy.listen()
  const inflight = fetchText(port, '/slow')
  await slow.arrived
  let closed = false
  const closing = proxy.close(10_000).then(() => { closed = true })
  await eventually(() => !proxy.status().listening, 'the listener to close')
  await t.rejects(new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => { s.destroy(); resolve(undefined) })
    s.on('error', reject)
  }), { code: 'ECONNREFUSED' }, 'no new connections while draining')
  t.notOk(closed, 'close waits for the in-flight request')
  slow.release()
  const res = await inflight
  t.equal(res.status, 200)
  t.equal(res.body, 'slow finished')
  t.equal(res.headers.connection, 'close', 'the drained response tells the client to go')
  await closing
  t.ok(closed)
})

t.test('close cuts what is still running at the deadline', async (t) => {
  const slow = await held(t, 'stuck')
  const proxy = createProxy({
    frontend: { host: '127.0.0.1', port: 0 },
    connect: plainConnector(),
    services: [testService('web', [slow.backend])],
    urlMap: { defaultService: 'web' }
  })
  const { port } = await proxy.listen()
  const outcome = fetchText(port, '/slow').then(() => 'answered', (err: Error & { code?: string }) => err.code)
  await slow.arrived
  await proxy.close(100)
  t.equal(await outcome, 'ECONNRESET', 'the client connection was cut')
  t.equal(proxy.status().inFlight, 0)
  slow.release()
})
