import { connect, createServer, type Socket } from 'node:net'
import t, { type Test } from 'tap'
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

const OK = 'HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok'

/** A plain backend answering each read `delayMs()` later, and a keep-alive transport to it. */
async function pooledBackend (t: Test, keepAliveTimeoutMs: number, delayMs: () => number = () => 0): Promise<{ tr: Http1Transport, connections: () => number, closes: number[] }> {
  const closes: number[] = []
  let connections = 0
  const server = createServer((socket) => {
    connections++
    socket.on('close', () => { closes.push(Date.now()) })
    socket.on('data', () => { setTimeout(() => { socket.write(OK, 'latin1') }, delayMs()) })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => { server.close() })
  const port = (server.address() as { port: number }).port
  const tr = new Http1Transport({
    open: (callback) => { const s = connect(port, '127.0.0.1', () => { callback(null, s) }) },
    identify: () => undefined, keepAlive: true, maxRequestsPerConnection: 0, keepAliveTimeoutMs, authority: `127.0.0.1:${port}`, maxConnections: undefined
  })
  t.teardown(() => tr.destroy())
  return { tr, connections: () => connections, closes }
}

/** Sends one request; resolves with its status, rejects on its error or when no answer came within 5 s. */
async function send (tr: Http1Transport, onData?: (controller: Dispatcher.DispatchController) => void): Promise<number> {
  return await new Promise((resolve, reject) => {
    const timer = setTimeout(() => { reject(new Error('no answer within 5 s: the connection never read it')) }, 5000)
    let status = 0
    tr.dispatch(request, {
      onResponseStart: (_c, code) => { status = code },
      ...(onData === undefined ? {} : { onResponseData: (c: Dispatcher.DispatchController) => { onData(c) } }),
      onResponseEnd: () => { clearTimeout(timer); resolve(status) },
      onResponseError: (_c, err) => { clearTimeout(timer); reject(err) }
    })
  })
}

t.test('an idle pooled connection closes after keepAliveTimeout, counted from its last request', async (t) => {
  let delay = 0
  const { tr, connections, closes } = await pooledBackend(t, 1000, () => delay)
  t.equal(await send(tr), 200)
  await new Promise((resolve) => setTimeout(resolve, 500))
  // Busy from 500 to 1300 ms, across the end of the first idle period (1000 ms): not cut.
  delay = 800
  t.equal(await send(tr), 200, 'a request running past the earlier idle deadline completes')
  const idleFrom = Date.now()
  t.equal(connections(), 1, 'the second request reused the connection')
  while (closes.length === 0) await new Promise((resolve) => setTimeout(resolve, 20))
  const idle = (closes[0] ?? 0) - idleFrom
  t.ok(idle >= 900, `closed after ${idle} ms idle, not before keepAliveTimeout`)
})

t.test('a connection its last request left paused reads again in the pool; that request\'s controller no longer acts', async (t) => {
  const { tr, connections } = await pooledBackend(t, 10_000)
  let first: Dispatcher.DispatchController | undefined
  // A handler whose client stopped reading: it pauses on the body and never resumes.
  t.equal(await send(tr, (c) => { first = c; c.pause() }), 200)
  t.equal(await send(tr), 200, 'the next request on the pooled connection is answered')
  t.equal(connections(), 1, 'the same pooled connection carried both')
  first?.abort(new Error('late abort from the finished request'))
  first?.pause()
  t.equal(await send(tr), 200, 'a late abort or pause of the first request touched nothing')
  t.equal(connections(), 1)
})
