// frontend.limits and path normalisation apply to the HTTP/2 frontend paths as to HTTP/1.1:
// an h2c request is routed and forwarded by its normalised path (or refused with 400), an
// HTTP/2 header list above maxHeaderSize is refused, a cleartext connection that never sends
// a first byte is closed after headersTimeout, and maxConnections counts h2c connections too.
import t, { type Test } from 'tap'
import http2 from 'node:http2'
import { connect as tcpConnect } from 'node:net'
import { createBackendConnector } from '../src/tls/backend-connector.ts'
import { startEchoBackend } from '../src/testbed/echo-backend.ts'
import { startTestProxy, testService } from '../src/proxy/test-support.ts'
import type { FrontendLimits } from '../src/proxy/types.ts'
import { TestSnapshots, makeDomain, makeSvid } from './tls-fixtures.ts'

const a = await makeDomain('a.test')
const backend = await startEchoBackend({ listen: '127.0.0.1:0', name: 'echo', snapshots: new TestSnapshots(await makeSvid(a, '/backend/echo'), [a.bundle]) })
t.teardown(() => backend.close(0))
const connect = createBackendConnector({ snapshots: new TestSnapshots(await makeSvid(a, '/lb'), [a.bundle]) })
t.teardown(() => { connect.close() })

async function proxy (t: Test, limits: Partial<FrontendLimits> = {}): Promise<number> {
  const { port } = await startTestProxy(t, {
    connect,
    frontend: { host: '127.0.0.1', port: 0, limits },
    services: [testService('h2', [backend], { protocol: 'HTTP2' })],
    urlMap: { defaultService: 'h2' }
  })
  return port
}

/** One h2c request; resolves with status and body text, or the stream's error code. */
async function h2c (port: number, headers: http2.OutgoingHttpHeaders): Promise<{ status: number, text: string, error?: string }> {
  const session = http2.connect(`http://127.0.0.1:${port}`)
  session.on('error', () => {})
  try {
    return await new Promise((resolve) => {
      const req = session.request({ ':authority': 'web.test', ...headers })
      let status = 0
      let text = ''
      req.on('response', (h) => { status = Number(h[':status']) })
      req.on('data', (c: Buffer) => { text += c.toString() })
      req.on('end', () => { resolve({ status, text }) })
      req.on('error', (err: Error & { code?: string }) => { resolve({ status, text, error: err.code ?? err.message }) })
      req.on('close', () => { resolve({ status, text, error: `closed (rst code ${req.rstCode ?? 'none'})` }) })
      req.end()
    })
  } finally { session.close() }
}

t.test('h2c: the request is routed and forwarded by its normalised path', async (t) => {
  const port = await proxy(t)
  const r = await h2c(port, { ':path': '/a/./b/../c//%7Euser?q=1' })
  t.equal(r.status, 200)
  t.match(JSON.parse(r.text), { path: '/a/c/~user?q=1', httpVersion: '2.0' }, 'the backend got the normalised path over h2')
  const refused = await h2c(port, { ':path': '/a%2Fb' })
  t.equal(refused.status, 400)
  t.match(refused.text, /bad request path "\/a%2Fb"/)
})

t.test('h2c: a header list above frontend.limits.maxHeaderSize is refused', async (t) => {
  const port = await proxy(t, { maxHeaderSize: 2048 })
  const ok = await h2c(port, { ':path': '/small', 'x-fill': 'y'.repeat(100) })
  t.equal(ok.status, 200)
  const big = await h2c(port, { ':path': '/big', 'x-fill': 'y'.repeat(8192) })
  t.not(big.status, 200, `refused (${big.status} ${big.error ?? ''})`)
  t.ok(big.status === 431 || big.error !== undefined, 'answered 431 or the stream was refused')
})

t.test('cleartext: a connection sending no first byte is closed after headersTimeout', async (t) => {
  const port = await proxy(t, { headersTimeoutMs: 200 })
  const socket = tcpConnect(port, '127.0.0.1')
  socket.on('error', () => {})
  await new Promise<void>((resolve) => { socket.once('close', () => { resolve() }) })
  t.pass('closed by the proxy before any protocol was chosen')
})

t.test('h2c connections count against frontend.limits.maxConnections', async (t) => {
  const port = await proxy(t, { maxConnections: 1 })
  const first = http2.connect(`http://127.0.0.1:${port}`)
  t.teardown(() => { first.close() })
  const held = await new Promise<number>((resolve) => {
    const req = first.request({ ':path': '/one', ':authority': 'web.test' })
    req.on('response', (h) => { resolve(Number(h[':status'])) })
    req.resume()
    req.end()
  })
  t.equal(held, 200)
  const second = await h2c(port, { ':path': '/two' })
  t.not(second.status, 200, 'the second connection was not served')
})
