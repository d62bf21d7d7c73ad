// WebSocket through the proxy with the `ws` client: relayed to the test backend's /ws over a
// verified mTLS connection (HTTPS and HTTP2 services), messages echoed both ways, a close on
// one side closes the other, an untrusted backend is refused before any byte is sent, and an
// idle session ends after the service timeout.
import t from 'tap'
import WebSocket from 'ws'
import { createBackendConnector } from '../src/tls/backend-connector.ts'
import { startEchoBackend } from '../src/testbed/echo-backend.ts'
import { eventually, startTestProxy, testService } from '../src/proxy/test-support.ts'
import { TestSnapshots, makeDomain, makeSvid } from './tls-fixtures.ts'

const [a, evil] = await Promise.all([makeDomain('a.test'), makeDomain('evil.test')])
const echo = await startEchoBackend({ listen: '127.0.0.1:0', name: 'echo', snapshots: new TestSnapshots(await makeSvid(a, '/backend/echo'), [a.bundle]) })
t.teardown(() => echo.close(0))
const closer = await startEchoBackend({ listen: '127.0.0.1:0', name: 'closer', snapshots: new TestSnapshots(await makeSvid(a, '/backend/closer'), [a.bundle]) })
t.teardown(() => closer.close(0))
const untrusted = await startEchoBackend({ listen: '127.0.0.1:0', name: 'evil', snapshots: new TestSnapshots(await makeSvid(evil, '/backend/x'), [a.bundle]) })
t.teardown(() => untrusted.close(0))
const connect = createBackendConnector({ snapshots: new TestSnapshots(await makeSvid(a, '/lb'), [a.bundle]) })
t.teardown(() => { connect.close() })
const names = ['h1', 'h2', 'untrusted', 'idle', 'closer'] as const
const ports = { h1: echo.port, h2: echo.port, untrusted: untrusted.port, idle: echo.port, closer: closer.port }
const { port, log } = await startTestProxy(t, {
  connect,
  services: names.map((n) => testService(n, [{ port: ports[n] }], { protocol: n === 'h2' ? 'HTTP2' : 'HTTPS', timeoutMs: n === 'idle' ? 300 : 10_000 })),
  urlMap: { defaultService: 'h1', hostRules: names.map((n) => ({ hosts: [`${n}.test`], pathMatcher: n })), pathMatchers: names.map((n) => ({ name: n, defaultService: n })) }
})

async function open (host: string): Promise<WebSocket> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`, { headers: { host } })
  await new Promise<void>((resolve, reject) => { ws.once('open', () => { resolve() }); ws.once('error', reject) })
  return ws
}
const next = async (ws: WebSocket): Promise<string> => await new Promise((resolve) => { ws.once('message', (m: Buffer) => { resolve(m.toString()) }) })

for (const host of ['h1.test', 'h2.test']) {
  t.test(`messages echo both ways and a client close closes the backend side (${host})`, async (t) => {
    const before = echo.stats().open
    const ws = await open(host)
    for (const word of ['ping', 'pong', 'x'.repeat(70_000)]) {
      const answer = next(ws)
      ws.send(word)
      t.equal(await answer, word)
    }
    ws.close(1000, 'done')
    await new Promise((resolve) => { ws.once('close', resolve) })
    await eventually(() => echo.stats().open === before, 'the backend connection closed too')
  })
}

t.test('a backend closing its side closes the client', async (t) => {
  const ws = await open('closer.test')
  const closed = new Promise<number>((resolve) => { ws.once('close', resolve) })
  await closer.close(5000) // the backend says goodbye (1001) to every WebSocket
  t.equal(await closed, 1001, 'the backend close frame reached the client')
})

t.test('an untrusted backend is refused with 502 and the SPIFFE reason; it saw no request', async (t) => {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`, { headers: { host: 'untrusted.test' } })
  const res = await new Promise<{ status: number, body: string }>((resolve) => {
    ws.once('unexpected-response', (_req, r) => {
      let body = ''
      r.on('data', (c: Buffer) => { body += c.toString() })
      r.on('end', () => { resolve({ status: r.statusCode ?? 0, body }) })
    })
  })
  ws.on('error', () => {})
  t.equal(res.status, 502)
  t.match(res.body, /rejected: .*ERR_SPIFFE_VERIFY_NO_BUNDLE/)
  t.equal(untrusted.stats().requests, 0)
})

t.test('an idle session ends after the service timeout; the access log names the upgrade', async (t) => {
  const ws = await open('idle.test')
  const code = await new Promise<number>((resolve) => { ws.once('close', resolve) })
  t.equal(code, 1006, 'cut without a close frame')
  await eventually(() => log.requests().some((r) => r.service === 'idle' && r.status === 101), 'the access-log line')
  t.match(log.requests().find((r) => r.service === 'idle'), { status: 101, error: /idle for 300 ms/, backendSpiffeId: 'spiffe://a.test/backend/echo', backendProtocol: 'HTTP/1.1' })
})
