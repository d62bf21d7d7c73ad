import t from 'tap'
import { createServer } from 'node:net'
import { ManualClock } from '../src/internal/clock.ts'
import {
  forEachPoolMode, eventually, fetchText, gate, startBackend, startTestProxy, testService, type TestBackend
} from '../src/proxy/test-support.ts'

async function backend (t: { teardown: (fn: () => unknown) => void }, name: string, ...rest: Parameters<typeof startBackend> extends [string, ...infer R] ? R : never): Promise<TestBackend> {
  const b = await startBackend(name, ...rest)
  t.teardown(() => b.close())
  return b
}

/** A port nothing listens on (a backend that was started, then killed). */
async function deadPort (): Promise<{ port: number }> {
  const b = await startBackend('dead')
  await b.kill()
  return { port: b.port }
}

forEachPoolMode(t, (t, svc) => {

  t.test('a connect failure is retried once on a different endpoint and ejects the endpoint', async (t) => {
    const dead = await deadPort()
    const live = await backend(t, 'live')
    const { proxy, port, log } = await startTestProxy(t, {
      services: [svc('web', [dead, live])], // ROUND_ROBIN: the dead endpoint is picked first
      urlMap: { defaultService: 'web' }
    })
    const res = await fetchText(port, '/one')
    t.equal(res.status, 200)
    t.equal(res.body, 'live GET /one')
    t.match(log.requests()[0], { status: 200, attempts: 2, endpoint: `127.0.0.1:${live.port}` })
    const deadStatus = proxy.status().services[0]?.endpoints[0]
    t.match(deadStatus, { endpoint: `127.0.0.1:${dead.port}`, healthy: false, reason: /ECONNREFUSED/ }, 'passively ejected')
    for (let i = 0; i < 4; i++) t.equal((await fetchText(port, `/n${i}`)).status, 200)
    t.same(log.requests().slice(1).map((r) => r.attempts), [1, 1, 1, 1], 'the ejected endpoint is no longer tried')
    t.equal(live.seen.length, 5)
  })

  t.test('502 naming the endpoint when no endpoint can be connected, then 503', async (t) => {
    const dead = await deadPort()
    const { port, log } = await startTestProxy(t, { services: [svc('web', [dead])], urlMap: { defaultService: 'web' } })
    const res = await fetchText(port, '/')
    t.equal(res.status, 502)
    t.match(res.body, new RegExp(`^backend 127\\.0\\.0\\.1:${dead.port} connect failed: .*\\(ECONNREFUSED\\)\\n$`))
    const again = await fetchText(port, '/')
    t.equal(again.status, 503)
    t.equal(again.body, 'no healthy endpoint in backend service web\n')
    t.match(log.requests(), [{ status: 502, attempts: 1 }, { status: 503, attempts: 0, endpoint: '' }])
  })

  t.test('503 when the service has no endpoint at all', async (t) => {
    const { port } = await startTestProxy(t, { services: [svc('empty', [])], urlMap: { defaultService: 'empty' } })
    const res = await fetchText(port, '/')
    t.equal(res.status, 503)
    t.equal(res.body, 'no healthy endpoint in backend service empty\n')
  })

  t.test('without active checks a passively ejected endpoint returns after the ejection time', async (t) => {
    const b = await backend(t, 'flaky')
    await b.kill()
    const clock = new ManualClock(Date.now())
    const { proxy, port } = await startTestProxy(t, {
      clock,
      services: [svc('web', [b], { passiveEjectionMs: 30_000 })],
      urlMap: { defaultService: 'web' }
    })
    t.equal((await fetchText(port, '/')).status, 502)
    await b.revive()
    t.equal((await fetchText(port, '/')).status, 503, 'still ejected')
    clock.advance(29_999)
    t.equal(proxy.status().services[0]?.endpoints[0]?.healthy, false)
    clock.advance(1)
    t.equal(proxy.status().services[0]?.endpoints[0]?.healthy, true, 're-admitted')
    t.equal((await fetchText(port, '/')).body, 'flaky GET /')
  })

  t.test('no retry once the request was written: 502 and the endpoint stays in', async (t) => {
    const cutter = await backend(t, 'cutter', (req) => { req.socket.destroy() })
    const other = await backend(t, 'other')
    const { proxy, port, log } = await startTestProxy(t, {
      services: [svc('web', [cutter, other])],
      urlMap: { defaultService: 'web' }
    })
    const res = await fetchText(port, '/pay', { method: 'POST', body: 'charge once' })
    t.equal(res.status, 502)
    t.match(res.body, new RegExp(`^backend 127\\.0\\.0\\.1:${cutter.port} failed: `))
    t.equal(cutter.seen.length, 1, 'the request reached the first backend')
    t.equal(other.seen.length, 0, 'and was not replayed on the second')
    t.match(log.requests()[0], { status: 502, attempts: 1 })
    t.equal(proxy.status().services[0]?.endpoints[0]?.healthy, true, 'not ejected: the connection worked')
  })

  t.test('504 when the backend does not answer within the service timeout', async (t) => {
    const aborted = gate()
    const slow = await backend(t, 'slow', (_req, res) => {
      res.on('close', () => { if (!res.writableEnded) aborted.open() })
    })
    const { port, log } = await startTestProxy(t, {
      services: [svc('web', [slow], { timeoutMs: 300 })],
      urlMap: { defaultService: 'web' }
    })
    const res = await fetchText(port, '/wait')
    t.equal(res.status, 504)
    t.equal(res.body, 'backend service web timed out after 300 ms\n')
    await aborted.opened
    t.pass('the backend request was aborted')
    t.match(log.requests()[0], { status: 504, endpoint: `127.0.0.1:${slow.port}` })
  })

  t.test('a backend failing mid-body cuts the client connection', async (t) => {
    const b = await backend(t, 'half', (_req, res) => {
      res.writeHead(200, { 'content-length': '100' })
      res.write('x'.repeat(10), () => { setTimeout(() => res.socket?.destroy(), 20) })
    })
    const { port, log } = await startTestProxy(t, { services: [svc('web', [b])], urlMap: { defaultService: 'web' } })
    await t.rejects(fetchText(port, '/'), 'the client sees an aborted response, not a clean one')
    await eventually(() => log.requests().length === 1, 'the access-log line')
    t.match(log.requests()[0], { status: 200, error: /failed/ })
  })
})

t.test('one request per connection: the access log names the identity of the connection that served each request', async (t) => {
  const release = gate()
  const ports = new Map<string, number>()
  const b = await backend(t, 'b', (req, res) => {
    ports.set(req.url ?? '', req.socket.remotePort ?? -1)
    const answer = (): void => { res.writeHead(200); res.end(req.url) }
    if (req.url === '/slow') void release.opened.then(answer)
    else answer()
  })
  const { port, log } = await startTestProxy(t, {
    services: [testService('web', [b], { connectionPool: { maxRequestsPerConnection: 1, keepAlive: false } })],
    urlMap: { defaultService: 'web' },
    // Each backend connection "proves" an identity named after its own local port.
    peerIdentity: (socket) => `spiffe://t.test/conn/${socket.localPort ?? 0}`
  })
  const slow = fetchText(port, '/slow')
  await eventually(() => ports.has('/slow'), 'the slow request reaching the backend')
  t.equal((await fetchText(port, '/fast')).status, 200, 'a second connection served meanwhile')
  release.open()
  t.equal((await slow).status, 200)
  await eventually(() => log.requests().length === 2, 'two access-log lines')
  const logged = new Map(log.requests().map((r) => [r.path, r.backendSpiffeId]))
  t.not(ports.get('/slow'), ports.get('/fast'), 'two connections')
  t.equal(logged.get('/slow'), `spiffe://t.test/conn/${ports.get('/slow') ?? ''}`, 'not the later connection\'s identity')
  t.equal(logged.get('/fast'), `spiffe://t.test/conn/${ports.get('/fast') ?? ''}`)
})

t.test('a revived backend takes its port back even when something held it meanwhile', async (t) => {
  const b = await backend(t, 'phoenix')
  await b.kill()
  // Something else holds the port for a moment; revive keeps trying instead of failing.
  const squatter = createServer(() => {})
  await new Promise<void>((resolve) => squatter.listen(b.port, '127.0.0.1', resolve))
  const revived = b.revive()
  setTimeout(() => { squatter.close() }, 200)
  await revived
  const { port } = await startTestProxy(t, { services: [testService('web', [b])], urlMap: { defaultService: 'web' } })
  t.equal((await fetchText(port, '/back')).body, 'phoenix GET /back', 'the same port, the backend again')
})
