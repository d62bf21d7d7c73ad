// Response framing from an HTTP/1.1 backend, as the lean transport reads it: Content-Length,
// chunked with trailers, close-delimited, 1xx before the answer, HEAD/204/304 without body; a
// connection whose framing is in doubt (bytes beyond the response, a refused head, a close-
// delimited body) is closed instead of being reused, and a refused response head is a 502.
import { createServer, type Server, type Socket } from 'node:net'
import t from 'tap'
import { fetchText, startTestProxy, testService } from '../src/proxy/test-support.ts'

interface RawBackend { port: number, connections: () => number, close: () => Promise<void> }

/** A backend that answers every request head it reads with `answer(method, path)`, verbatim. */
async function rawBackend (answer: (method: string, path: string) => string): Promise<RawBackend> {
  let connections = 0
  const sockets = new Set<Socket>()
  const server: Server = createServer((socket) => {
    connections++
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
    let buffered = ''
    socket.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('latin1')
      let end: number
      while ((end = buffered.indexOf('\r\n\r\n')) !== -1) {
        const [method = '', path = ''] = buffered.slice(0, buffered.indexOf('\r\n')).split(' ')
        buffered = buffered.slice(end + 4)
        const text = answer(method, path)
        if (text === '') { socket.end(); return }
        socket.write(text, 'latin1')
        if (!text.includes('content-length') && !text.includes('chunked') && !/^HTTP\/1\.1 (204|304)/.test(text) && method !== 'HEAD') socket.end()
      }
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as { port: number }).port
  return {
    port,
    connections: () => connections,
    close: async () => { for (const s of sockets) s.destroy(); await new Promise((resolve) => server.close(resolve)) }
  }
}

const ok = (body: string, extra = ''): string => `HTTP/1.1 200 OK\r\ncontent-length: ${body.length}\r\n${extra}\r\n${body}`

t.test('well-framed answers are relayed and the connection is reused', async (t) => {
  const backend = await rawBackend((method, path) => {
    if (path === '/chunked') return 'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n3;ext=1\r\nabc\r\n2\r\nde\r\n0\r\nx-trailer: t\r\n\r\n'
    if (path === '/continue') return `HTTP/1.1 100 Continue\r\n\r\n${ok('after 100')}`
    if (path === '/204') return 'HTTP/1.1 204 No Content\r\n\r\n'
    if (path === '/304') return 'HTTP/1.1 304 Not Modified\r\netag: "x"\r\n\r\n'
    if (method === 'HEAD') return 'HTTP/1.1 200 OK\r\ncontent-length: 42\r\n\r\n'
    if (path === '/proto') return ok('p', '__proto__: a\r\n__proto__: b\r\nx-after: kept\r\n')
    return ok(`${method} ${path}`)
  })
  t.teardown(() => backend.close())
  const { port } = await startTestProxy(t, { services: [testService('web', [backend], { connectionPool: { keepAlive: true, maxRequestsPerConnection: 0 } })], urlMap: { defaultService: 'web' } })
  t.match(await fetchText(port, '/a'), { status: 200, body: 'GET /a' })
  t.match(await fetchText(port, '/chunked'), { status: 200, body: 'abcde' })
  t.match(await fetchText(port, '/continue'), { status: 200, body: 'after 100' })
  t.match(await fetchText(port, '/204'), { status: 204, body: '' })
  t.match(await fetchText(port, '/304'), { status: 304, body: '', headers: { etag: '"x"' } })
  t.match(await fetchText(port, '/h', { method: 'HEAD' }), { status: 200, body: '', headers: { 'content-length': '42' } })
  t.match(await fetchText(port, '/b'), { status: 200, body: 'GET /b' })
  // Repeated, `__proto__` would have become an array the response object inherits from.
  const proto = await fetchText(port, '/proto')
  t.match(proto, { status: 200, body: 'p', headers: { 'x-after': 'kept' } })
  t.same(Object.keys(proto.headers).filter((n) => !['content-length', 'x-after', 'date', 'connection', 'keep-alive'].includes(n)), [], 'no field named __proto__ (or inherited from one) is relayed')
  t.equal(backend.connections(), 1, 'eight sequential requests over one pooled connection')
})

t.test('framing in doubt closes the backend connection instead of pooling it', async (t) => {
  const backend = await rawBackend((_method, path) => {
    if (path === '/extra') return `${ok('one')}HTTP/1.1 200 OK\r\ncontent-length: 7\r\n\r\nsmuggle`
    if (path === '/close-delimited') return 'HTTP/1.1 200 OK\r\n\r\nuntil close'
    return ok(path)
  })
  t.teardown(() => backend.close())
  const { port } = await startTestProxy(t, { services: [testService('web', [backend], { connectionPool: { keepAlive: true, maxRequestsPerConnection: 0 } })], urlMap: { defaultService: 'web' } })
  t.match(await fetchText(port, '/extra'), { status: 200, body: 'one' })
  t.match(await fetchText(port, '/next'), { status: 200, body: '/next' }, 'the unrequested second answer never reaches a client')
  t.equal(backend.connections(), 2, 'the connection that sent bytes beyond its answer was not reused')
  t.match(await fetchText(port, '/close-delimited'), { status: 200, body: 'until close' })
  t.match(await fetchText(port, '/after'), { status: 200, body: '/after' })
  t.equal(backend.connections(), 3, 'a close-delimited answer ends its connection: the next request opens another')
})

t.test('a response head the strict parser refuses is a 502 naming the rule', async (t) => {
  const backend = await rawBackend((_method, path) => {
    if (path === '/cl-te') return 'HTTP/1.1 200 OK\r\ncontent-length: 3\r\ntransfer-encoding: chunked\r\n\r\n0\r\n\r\n'
    if (path === '/fold') return 'HTTP/1.1 200 OK\r\nx-a: a\r\n b\r\ncontent-length: 0\r\n\r\n'
    if (path === '/two-cl') return 'HTTP/1.1 200 OK\r\ncontent-length: 1\r\ncontent-length: 2\r\n\r\nab'
    return ok(path)
  })
  t.teardown(() => backend.close())
  const { port, log } = await startTestProxy(t, { services: [testService('web', [backend])], urlMap: { defaultService: 'web' } })
  for (const path of ['/cl-te', '/fold', '/two-cl']) {
    const res = await fetchText(port, path)
    t.equal(res.status, 502, path)
    t.match(res.body, /refused by the http\/1\.1 parser.*\(HPE_[A-Z_]+\)/, `${path}: the 502 says why`)
  }
  t.match(log.requests().at(-1), { status: 502, error: /HPE_/ })
})
