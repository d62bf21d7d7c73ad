// The response side of the proxy: timeoutSec bounds the whole response (a body that trickles
// forever is cut), a response cut mid-body is logged as such, an idempotent request that lost a
// reused connection before any answer is sent again once (a POST is not), TRACE is refused
// unless enabled, and Forwarded / X-Real-IP from clients cannot pose as the proxy.
import type { Socket } from 'node:net'
import t from 'tap'
import { eventually, fetchText, startBackend, startTestProxy, testService } from '../src/proxy/test-support.ts'

t.test('timeoutSec bounds the whole response: a trickling body is cut and logged as cut', async (t) => {
  const timers = new Set<NodeJS.Timeout>()
  const backend = await startBackend('slow', (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' })
    const timer = setInterval(() => { res.write('x') }, 50) // never idle long enough for bodyTimeout
    timers.add(timer)
    res.once('close', () => { clearInterval(timer) })
  })
  t.teardown(async () => { for (const x of timers) clearInterval(x); await backend.close() })
  const { port, log } = await startTestProxy(t, {
    services: [testService('web', [backend], { timeoutMs: 2000 })],
    urlMap: { defaultService: 'web' }
  })
  await t.rejects(fetchText(port, '/trickle'), 'the client sees a cut response, not a complete one')
  await eventually(() => log.requests().length === 1, 'the access log line')
  t.match(log.requests()[0], { status: 200, completed: false, error: /timed out after 2000 ms/ })
})

t.test('a response the backend cuts mid-body is logged with completed: false', async (t) => {
  const backend = await startBackend('cut', (_req, res) => {
    res.writeHead(200, { 'content-length': '100' })
    res.write('only part', () => { res.socket?.destroy() })
  })
  t.teardown(() => backend.close())
  const { port, log } = await startTestProxy(t, { services: [testService('web', [backend])], urlMap: { defaultService: 'web' } })
  await t.rejects(fetchText(port, '/cut'))
  await eventually(() => log.requests().length === 1, 'the access log line')
  t.match(log.requests()[0], { status: 200, completed: false, error: /backend .* failed/ })
})

t.test('an idempotent request that lost a reused connection is sent again once; a POST is not', async (t) => {
  // Each connection answers one request and then dies under the next, as a backend killed
  // between requests does: the proxy's pooled connection is dead before anything comes back.
  const served = new WeakMap<Socket, number>()
  let posts = 0
  const backend = await startBackend('flaky', (req, res) => {
    const socket = req.socket
    const n = served.get(socket) ?? 0
    served.set(socket, n + 1)
    if (req.method === 'POST') { posts++; socket.destroy(); return } // a POST is never answered
    if (n >= 1) { socket.destroy(); return }
    req.resume()
    req.once('end', () => { res.writeHead(200).end(`ok ${req.method ?? ''}`) })
  })
  t.teardown(() => backend.close())
  const { port, log } = await startTestProxy(t, { services: [testService('web', [backend])], urlMap: { defaultService: 'web' } })
  t.equal((await fetchText(port, '/first')).status, 200)
  const again = await fetchText(port, '/second')
  t.equal(again.status, 200, `GET on the dead pooled connection was sent again: ${again.body}`)
  t.match(log.requests().at(-1), { attempts: 2, status: 200 })
  const post = await fetchText(port, '/post', { method: 'POST', body: 'payload' })
  t.equal(post.status, 502, 'a POST that lost its connection is not sent again')
  t.equal(posts, 1, 'the backend saw the POST once')
})

t.test('TRACE is refused with 405 unless frontend.allowTrace', async (t) => {
  const backend = await startBackend('b')
  t.teardown(() => backend.close())
  const refused = await startTestProxy(t, { services: [testService('web', [backend])], urlMap: { defaultService: 'web' } })
  const r = await fetchText(refused.port, '/x', { method: 'TRACE' })
  t.equal(r.status, 405)
  t.match(r.headers.allow, /GET/)
  t.equal(backend.seen.length, 0, 'nothing forwarded')
  const allowed = await startTestProxy(t, {
    frontend: { host: '127.0.0.1', port: 0, allowTrace: true },
    services: [testService('web', [backend])],
    urlMap: { defaultService: 'web' }
  })
  t.equal((await fetchText(allowed.port, '/x', { method: 'TRACE' })).status, 200)
  t.equal(backend.seen[0]?.method, 'TRACE')
})

t.test('Forwarded is appended to and X-Real-IP replaced, like X-Forwarded-*', async (t) => {
  const backend = await startBackend('b')
  t.teardown(() => backend.close())
  const { port } = await startTestProxy(t, { services: [testService('web', [backend])], urlMap: { defaultService: 'web' } })
  await fetchText(port, '/h', { headers: { forwarded: 'for=192.0.2.1', 'x-real-ip': '10.6.6.6' } })
  const h = backend.seen[0]?.headers
  t.equal(h?.['x-real-ip'], '127.0.0.1', 'the client cannot choose X-Real-IP')
  t.match(h?.forwarded, /^for=192\.0\.2\.1, for=127\.0\.0\.1;proto=http;host="127\.0\.0\.1:\d+"$/, 'the proxy appends its own hop')
})
