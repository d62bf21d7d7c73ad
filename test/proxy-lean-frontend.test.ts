// The cleartext HTTP/1.1 frontend reads heads from the socket itself: pipelined requests are
// answered in order on one connection, `Expect: 100-continue` is answered before the body,
// HTTP/1.0 clients get a Host towards the backend and a close-delimited answer, and a head
// the strict parser or the head rules refuse is answered with its status and never reaches
// a backend (the smuggling vectors of test/http1-corpus.ts, sent through the proxy).
import { connect, type Socket } from 'node:net'
import t from 'tap'
import { startBackend, startTestProxy, testService } from '../src/proxy/test-support.ts'
import { corpus } from './http1-corpus.ts'

/** Sends `chunks` on one connection (a short pause between them); returns all it got until the proxy closed it. */
async function exchange (port: number, chunks: string[]): Promise<string> {
  const socket = connect(port, '127.0.0.1')
  let out = ''
  socket.on('data', (d: Buffer) => { out += d.toString('latin1') })
  socket.on('error', () => {})
  const closed = new Promise((resolve) => { socket.once('close', resolve); socket.once('end', () => { socket.destroy() }) })
  for (const c of chunks) {
    socket.write(c, 'latin1')
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  await closed
  return out
}

const statuses = (text: string): string[] => [...text.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => m[1] ?? '')

const sleep = async (ms: number): Promise<void> => { await new Promise((resolve) => setTimeout(resolve, ms)) }

/** One client connection kept open: what it received so far, and when the proxy closed it. */
function openConnection (port: number): { socket: Socket, got: () => string, closedAt: Promise<number> } {
  const socket = connect(port, '127.0.0.1')
  let out = ''
  socket.on('data', (d: Buffer) => { out += d.toString('latin1') })
  const closedAt = new Promise<number>((resolve) => { socket.once('close', () => { resolve(Date.now()) }) })
  return { socket, got: () => out, closedAt }
}

t.test('pipelined requests, 100-continue, HTTP/1.0', async (t) => {
  const backend = await startBackend('b', (req, res) => {
    let body = ''
    req.on('data', (c: Buffer) => { body += c.toString() })
    req.on('end', () => { res.end(`${req.method ?? ''} ${req.url ?? ''} host=${req.headers.host ?? ''} body=${body}`) })
  })
  t.teardown(() => backend.close())
  const { port } = await startTestProxy(t, { services: [testService('web', [backend], { connectionPool: { keepAlive: true, maxRequestsPerConnection: 0 } })], urlMap: { defaultService: 'web' } })
  const pipelined = await exchange(port, [
    'GET /1 HTTP/1.1\r\nHost: h\r\n\r\nPOST /2 HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabcGET /3 HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n'
  ])
  t.same(statuses(pipelined), ['200', '200', '200'])
  t.match(pipelined, /GET \/1 host=h body=[\s\S]*POST \/2 host=h body=abc[\s\S]*GET \/3 host=h body=/, 'answered in order')
  const cont = await exchange(port, ['POST /c HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 2\r\nConnection: close\r\n\r\n', 'hi'])
  t.match(cont, /^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200 /, '100 Continue first, then the answer')
  t.match(cont, /body=hi/)
  const old = await exchange(port, ['GET /old HTTP/1.0\r\n\r\n'])
  t.match(old, /^HTTP\/1\.1 200 [\s\S]*connection: close[\s\S]*GET \/old host=127\.0\.0\.1:\d+ body=$/, 'the backend got a Host; the answer ends with the connection')
})

t.test('refused heads are answered with their status and never reach the backend', async (t) => {
  const backend = await startBackend('b')
  t.teardown(() => backend.close())
  const { port } = await startTestProxy(t, { services: [testService('web', [backend])], urlMap: { defaultService: 'web' } })
  for (const c of corpus.filter((x) => !x.accept && !x.name.startsWith('truncated') && !x.name.startsWith('Connection: close'))) {
    const before = backend.seen.length
    const got = await exchange(port, [c.input])
    const status = statuses(got)[0] ?? 'none'
    t.ok(['400', '405', '417', '431', '505'].includes(status) || (status === 'none' && got === ''), `${c.name}: refused (${status})`)
    t.equal(backend.seen.length, before, `${c.name}: nothing reached the backend`)
  }
})

t.test('the connection timers follow each phase across requests on one connection', async (t) => {
  const backend = await startBackend('b')
  t.teardown(() => backend.close())
  const { port } = await startTestProxy(t, {
    frontend: { host: '127.0.0.1', port: 0, limits: { headersTimeoutMs: 1000, keepAliveTimeoutMs: 1000 } },
    services: [testService('web', [backend], { connectionPool: { keepAlive: true, maxRequestsPerConnection: 0 } })],
    urlMap: { defaultService: 'web' }
  })
  const { socket, got, closedAt } = openConnection(port)
  // Each head and each idle gap is well within its own limit, and a head and an idle gap
  // together exceed either: a timer left running into the other phase would cut the
  // connection here. A late wake-up only lengthens the gaps, which keeps the check sharp.
  for (let i = 0; i < 2; i++) {
    socket.write('GET /slow-head HTTP/1.1\r\nHost: h\r\n', 'latin1')
    await sleep(600)
    socket.write('\r\n', 'latin1')
    await sleep(600)
  }
  t.same(statuses(got()), ['200', '200'], 'both requests served on one connection')
  t.notOk(socket.destroyed, 'still open')
  const headFrom = Date.now()
  socket.write('GET /last HTTP/1.1\r\nHost: h\r\n', 'latin1')
  const at = await closedAt
  t.same(statuses(got()), ['200', '200', '408'], 'an unfinished head past headersTimeout is answered 408')
  t.ok(at - headFrom >= 900, `closed by the head timer (after ${at - headFrom} ms)`)
})

t.test('requestTimeout: a body finished in time is served, a body that stalls gets 408 and the connection closes', async (t) => {
  const backend = await startBackend('b', (req, res) => {
    let body = ''
    req.on('data', (c: Buffer) => { body += c.toString() })
    req.on('end', () => { res.end(`got ${body}`) })
  })
  t.teardown(() => backend.close())
  const { port } = await startTestProxy(t, {
    frontend: { host: '127.0.0.1', port: 0, limits: { requestTimeoutMs: 800, headersTimeoutMs: 5000, keepAliveTimeoutMs: 5000 } },
    services: [testService('web', [backend], { connectionPool: { keepAlive: true, maxRequestsPerConnection: 0 } })],
    urlMap: { defaultService: 'web' }
  })
  const { socket, got, closedAt } = openConnection(port)
  socket.write('POST /a HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\n', 'latin1')
  await sleep(300)
  socket.write('abc', 'latin1')
  await sleep(1200) // past requestTimeout from the first request's start
  t.same(statuses(got()), ['200'], 'the slow but finished body was served')
  t.match(got(), /got abc/)
  t.notOk(socket.destroyed, 'and the connection stayed open past the first request\'s deadline')
  const from = Date.now()
  socket.write('POST /b HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\nabc', 'latin1')
  const at = await closedAt
  t.same(statuses(got()), ['200', '408'], 'the stalled body is answered 408')
  t.match(got(), /requestTimeout \(800 ms\)/)
  t.ok(at - from >= 700, `closed after ${at - from} ms`)
})
