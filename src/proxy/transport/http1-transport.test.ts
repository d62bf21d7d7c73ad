import { connect, createServer, type Socket } from 'node:net'
import t from 'tap'
import type { Dispatcher } from 'undici'
import { Http1Transport } from './http1-transport.ts'
import { TRANSPORT_CODES } from './transport-errors.ts'

type Open = (callback: (err: Error | null, socket: Socket | null) => void) => void

function transport (open: Open): Http1Transport {
  return new Http1Transport({
    open, identify: () => undefined, keepAlive: true, maxRequestsPerConnection: 0, keepAliveTimeoutMs: 1000, authority: '127.0.0.1:1', maxConnections: undefined
  })
}

const request: Dispatcher.DispatchOptions = { method: 'GET', path: '/', headers: [] }

t.test('close() waits for a connect in progress and resolves when it fails', async (t) => {
  let finish: (() => void) | undefined
  const tr = transport((callback) => { finish = () => { callback(Object.assign(new Error('refused'), { code: 'ECONNREFUSED' }), null) } })
  const errors: string[] = []
  tr.dispatch(request, { onResponseError: (_c, err) => { errors.push((err as { code?: string }).code ?? '') } })
  let closed = false
  const closing = tr.close().then(() => { closed = true })
  await new Promise((resolve) => setImmediate(resolve))
  t.notOk(closed, 'still waiting while the connect runs')
  finish?.()
  await closing
  t.same(errors, ['ECONNREFUSED'], 'the request heard the connect failure')
})

t.test('a closed transport refuses requests with the closed code', async (t) => {
  const tr = transport(() => {})
  await tr.close()
  const code = await new Promise<string | undefined>((resolve) => {
    t.equal(tr.dispatch(request, { onResponseError: (_c, err) => { resolve((err as { code?: string }).code) } }), false)
  })
  t.equal(code, TRANSPORT_CODES.closed)
})

t.test('an idle pooled connection closes after keepAliveTimeout, counted from its last request', async (t) => {
  const closes: number[] = []
  let connections = 0
  let delayMs = 0
  const server = createServer((socket) => {
    connections++
    socket.on('close', () => { closes.push(Date.now()) })
    socket.on('data', () => {
      setTimeout(() => { socket.write('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok', 'latin1') }, delayMs)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => { server.close() })
  const port = (server.address() as { port: number }).port
  const tr = new Http1Transport({
    open: (callback) => { const s = connect(port, '127.0.0.1', () => { callback(null, s) }) },
    identify: () => undefined, keepAlive: true, maxRequestsPerConnection: 0, keepAliveTimeoutMs: 1000, authority: `127.0.0.1:${port}`, maxConnections: undefined
  })
  t.teardown(() => tr.destroy())
  const send = async (): Promise<number> => await new Promise((resolve, reject) => {
    let status = 0
    tr.dispatch(request, {
      onResponseStart: (_c, code) => { status = code },
      onResponseEnd: () => { resolve(status) },
      onResponseError: (_c, err) => { reject(err) }
    })
  })
  t.equal(await send(), 200)
  await new Promise((resolve) => setTimeout(resolve, 500))
  // Busy from 500 to 1300 ms, across the end of the first idle period (1000 ms): not cut.
  delayMs = 800
  t.equal(await send(), 200, 'a request running past the earlier idle deadline completes')
  const idleFrom = Date.now()
  t.equal(connections, 1, 'the second request reused the connection')
  while (closes.length === 0) await new Promise((resolve) => setTimeout(resolve, 20))
  const idle = (closes[0] ?? 0) - idleFrom
  t.ok(idle >= 900, `closed after ${idle} ms idle, not before keepAliveTimeout`)
})

t.test('a connection its last request left paused reads again in the pool; that request\'s controller no longer acts', async (t) => {
  let connections = 0
  const server = createServer((socket) => {
    connections++
    socket.on('data', () => { socket.write('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok', 'latin1') })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => { server.close() })
  const port = (server.address() as { port: number }).port
  const tr = new Http1Transport({
    open: (callback) => { const s = connect(port, '127.0.0.1', () => { callback(null, s) }) },
    identify: () => undefined, keepAlive: true, maxRequestsPerConnection: 0, keepAliveTimeoutMs: 10_000, authority: `127.0.0.1:${port}`, maxConnections: undefined
  })
  t.teardown(() => tr.destroy())
  let first: Dispatcher.DispatchController | undefined
  // A handler whose client stopped reading: it pauses on the body and never resumes.
  await new Promise<void>((resolve, reject) => {
    tr.dispatch(request, {
      onResponseData: (controller) => { first = controller; controller.pause() },
      onResponseEnd: () => { resolve() },
      onResponseError: (_c, err) => { reject(err) }
    })
  })
  const second = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => { reject(new Error('the second request got no answer: its connection stayed paused')) }, 5000)
    let status = 0
    tr.dispatch(request, {
      onResponseStart: (_c, code) => { status = code },
      onResponseEnd: () => { clearTimeout(timer); resolve(status) },
      onResponseError: (_c, err) => { clearTimeout(timer); reject(err) }
    })
  })
  t.equal(second, 200)
  t.equal(connections, 1, 'the same pooled connection carried both')
  first?.abort(new Error('late abort from the finished request'))
  first?.pause()
  const third = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => { reject(new Error('the third request got no answer')) }, 5000)
    tr.dispatch(request, { onResponseEnd: () => { clearTimeout(timer); resolve(1) }, onResponseError: (_c, err) => { clearTimeout(timer); reject(err) } })
  })
  t.equal(third, 1, 'a late abort or pause of the first request touched nothing')
  t.equal(connections, 1)
})
