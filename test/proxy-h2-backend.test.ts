// Backend protocol HTTP2 over the SPIFFE mTLS connector: ALPN selects h2, many requests share
// one connection, a backend without h2 fails with a clear error, and an open HTTP/2 connection
// never carries a request past a trust change or an SVID rotation (old one drains and closes).
import t, { type Test } from 'tap'
import { createBackendConnector } from '../src/tls/backend-connector.ts'
import { startEchoBackend, type EchoBackend } from '../src/testbed/echo-backend.ts'
import { eventually, fetchText, startTestProxy, testService } from '../src/proxy/test-support.ts'
import type { ServiceOptions } from '../src/proxy/types.ts'
import { TestSnapshots, makeDomain, makeSvid } from './tls-fixtures.ts'

const [a, b] = await Promise.all([makeDomain('a.test'), makeDomain('b.test')])

async function echo (t: Test, name: string, alpn?: string[]): Promise<EchoBackend> {
  const domain = name.startsWith('b-') ? b : a
  const backend = await startEchoBackend({
    listen: '127.0.0.1:0', name, snapshots: new TestSnapshots(await makeSvid(domain, `/backend/${name}`), [a.bundle]),
    ...(alpn === undefined ? {} : { alpnProtocols: alpn })
  })
  t.teardown(() => backend.close(0))
  return backend
}

async function proxyTo (t: Test, backend: EchoBackend, snapshots: TestSnapshots, extra: Partial<ServiceOptions>): Promise<number> {
  const connect = createBackendConnector({ snapshots })
  t.teardown(() => { connect.close() })
  // The connector is also the service's credential-change feed, as serve wires it: its pools retire on rotation and trust changes.
  const { port } = await startTestProxy(t, { connect, services: [testService('svc', [backend], { ...extra, credentialChanges: connect })], urlMap: { defaultService: 'svc' } })
  return port
}

t.test('HTTP2: 20 concurrent requests multiplex over one verified h2 connection', async (t) => {
  const backend = await echo(t, 'web')
  const port = await proxyTo(t, backend, new TestSnapshots(await makeSvid(a, '/lb'), [a.bundle]), { protocol: 'HTTP2' })
  const answers = await Promise.all(Array.from({ length: 20 }, async (_, i) => await fetchText(port, `/r${i}`)))
  for (const r of answers) {
    t.equal(r.status, 200)
    t.match(JSON.parse(r.body), { httpVersion: '2.0', peer: 'spiffe://a.test/lb', name: 'web' })
  }
  t.equal(backend.stats().connections, 1, 'one connection carried every request')
})

t.test('HTTPS stays HTTP/1.1 although the backend offers h2', async (t) => {
  const backend = await echo(t, 'web')
  const port = await proxyTo(t, backend, new TestSnapshots(await makeSvid(a, '/lb'), [a.bundle]), { protocol: 'HTTPS' })
  const r = await fetchText(port, '/x')
  t.match(JSON.parse(r.body), { httpVersion: '1.1' })
})

t.test('HTTP2 to a backend whose ALPN has no h2: 502 naming ERR_SPIFFE_TLS_ALPN_MISMATCH', async (t) => {
  const backend = await echo(t, 'old', ['http/1.1'])
  const port = await proxyTo(t, backend, new TestSnapshots(await makeSvid(a, '/lb'), [a.bundle]), { protocol: 'HTTP2' })
  const r = await fetchText(port, '/x')
  t.equal(r.status, 502)
  t.match(r.body, /ERR_SPIFFE_TLS_ALPN_MISMATCH/)
  t.match(r.body, /did not select alpn "h2"/)
})

t.test('a trust change is not bypassed by an open HTTP/2 connection: next request refused, old connection closed', async (t) => {
  const backend = await echo(t, 'b-web')
  const snapshots = new TestSnapshots(await makeSvid(a, '/lb'), [a.bundle, b.bundle])
  const port = await proxyTo(t, backend, snapshots, { protocol: 'HTTP2' })
  const first = await fetchText(port, '/before')
  t.equal(first.status, 200)
  t.match(JSON.parse(first.body), { httpVersion: '2.0' })
  t.equal(backend.stats().open, 1, 'the h2 connection stays open')

  snapshots.publish({ bundles: [a.bundle] }) // b.test is no longer trusted
  const after = await fetchText(port, '/after')
  t.equal(after.status, 502, 'the open connection took no new request')
  t.match(after.body, /no trust bundle for trust domain "b\.test"/)
  await eventually(() => backend.stats().open === 0, 'the old connection closed after GOAWAY')
  t.equal(backend.stats().requests, 1, 'the backend saw only the request from before the change')
})

t.test('an SVID rotation moves new streams to a connection presenting the new SVID', async (t) => {
  const backend = await echo(t, 'web')
  const snapshots = new TestSnapshots(await makeSvid(a, '/lb'), [a.bundle])
  const port = await proxyTo(t, backend, snapshots, { protocol: 'HTTP2' })
  t.equal((await fetchText(port, '/one')).status, 200)
  t.equal((await fetchText(port, '/two')).status, 200)
  t.equal(backend.stats().connections, 1)
  snapshots.publish({ svid: await makeSvid(a, '/lb') })
  const r = await fetchText(port, '/three')
  t.equal(r.status, 200)
  t.equal(backend.stats().connections, 2, 'a new connection after the rotation')
  await eventually(() => backend.stats().open === 1, 'the pre-rotation connection drained and closed')
})
