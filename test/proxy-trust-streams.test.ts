// Long-lived traffic follows trust: a WebSocket, a gRPC server stream, an HTTP/2 streaming
// response and a chunked HTTP/1.1 response run through the proxy to a partner backend; then
// (a) the partner's trust domain is removed, (b) a CRL revokes the partner backend's
// certificate, or (c) the proxy's own SVID expires. Each stream must end with its protocol's
// signal (WebSocket close 1008/1011, grpc-status UNAVAILABLE naming the reason, an HTTP/2
// RST_STREAM, a cut HTTP/1.1 connection), the connector must report each connection it ended
// once, and streams to a backend that still verifies must keep flowing.
import t, { type Test } from 'tap'
import { ManualClock } from '../src/internal/clock.ts'
import { startTestProxy, testService } from '../src/proxy/test-support.ts'
import { normalizeSerial } from '../src/spiffe/revocation.ts'
import { createBackendConnector, type BackendConnector } from '../src/tls/backend-connector.ts'
import { startEchoBackend } from '../src/testbed/echo-backend.ts'
import type { TrustWithdrawnEvent } from '../src/tls/live-connections.ts'
import { TestSnapshots, makeDomain, makeSvid } from './tls-fixtures.ts'
import { checkEnded, checkFlowing, openChunked, openStreams, within, type ExpectedEnd, type OpenStreams } from './trust-streams.ts'

const [own, partner] = await Promise.all([makeDomain('own.test'), makeDomain('partner.test')])
const partnerSvid = await makeSvid(partner, '/backend/partner')
const lost = await startEchoBackend({ listen: '127.0.0.1:0', name: 'partner', snapshots: new TestSnapshots(partnerSvid, [own.bundle, partner.bundle]) })
t.teardown(() => lost.close(0))
const kept = await startEchoBackend({ listen: '127.0.0.1:0', name: 'own', snapshots: new TestSnapshots(await makeSvid(own, '/backend/own'), [own.bundle]) })
t.teardown(() => kept.close(0))

/** Starts a proxy with `lost-*` services to the partner backend and `kept-*` ones to the own-domain backend. */
async function proxyFor (t: Test, lostConnect: BackendConnector, keptConnect: BackendConnector): Promise<number> {
  const services = [
    testService('lost-h1', [lost], { protocol: 'HTTPS', connect: lostConnect, credentialChanges: lostConnect, timeoutMs: 60_000 }),
    testService('lost-h2', [lost], { protocol: 'HTTP2', connect: lostConnect, credentialChanges: lostConnect, timeoutMs: 60_000 }),
    // One request per connection takes the proxy's lean path (Node's own HTTP/1.1 client).
    testService('lost-one', [lost], { protocol: 'HTTPS', connect: lostConnect, credentialChanges: lostConnect, timeoutMs: 60_000, connectionPool: { maxRequestsPerConnection: 1, keepAlive: false } }),
    testService('kept-h1', [kept], { protocol: 'HTTPS', connect: keptConnect, credentialChanges: keptConnect, timeoutMs: 60_000 }),
    testService('kept-h2', [kept], { protocol: 'HTTP2', connect: keptConnect, credentialChanges: keptConnect, timeoutMs: 60_000 })
  ]
  const names = services.map((s) => s.name)
  const { port } = await startTestProxy(t, {
    services,
    urlMap: { hostRules: names.map((n) => ({ hosts: [`${n}.test`], pathMatcher: n })), pathMatchers: names.map((n) => ({ name: n, defaultService: n })) }
  })
  return port
}

/** Checks how each stream to the partner ended, the events, and that the other streams still flow. */
async function checkEnds (t: Test, streams: { lost: OpenStreams, kept: OpenStreams }, events: TrustWithdrawnEvent[],
  expect: ExpectedEnd & { code: string, reason: RegExp }, connectionsBefore: number): Promise<void> {
  await checkEnded(t, streams.lost, expect)
  t.ok(events.length > 0, `connections ended: ${events.length}`)
  t.ok(events.every((e) => e.code === expect.code && expect.reason.test(e.reason) && e.endpoint === `127.0.0.1:${lost.port}`), 'each event names the partner endpoint and the rule')
  t.equal(events.length, lost.stats().connections - connectionsBefore, 'one event per connection to the partner, each reported once')
  await checkFlowing(t, streams.kept)
}

t.test('(a) the partner trust domain is removed', async (t) => {
  const snapshots = new TestSnapshots(await makeSvid(own, '/lb'), [own.bundle, partner.bundle])
  const events: TrustWithdrawnEvent[] = []
  const connect = createBackendConnector({ snapshots, onTrustWithdrawn: (e) => { events.push(e) } })
  t.teardown(() => { connect.close() })
  const port = await proxyFor(t, connect, connect)
  const before = lost.stats().connections
  const streams = { lost: await openStreams(port, 'lost'), kept: await openStreams(port, 'kept') }
  t.teardown(() => { streams.lost.close(); streams.kept.close() })
  const oneShot = await openChunked(port, 'lost-one.test')
  t.teardown(() => { oneShot.res.destroy() })
  snapshots.publish({ bundles: [own.bundle] })
  t.same(await within(oneShot.closed, 'the one-shot chunked response to be cut'), { complete: false }, 'a chunked response over a one-request connection is cut too')
  await checkEnds(t, streams, events, { wsCode: 1008, code: 'ERR_SPIFFE_TLS_PEER_UNTRUSTED', reason: /^ERR_SPIFFE_VERIFY_NO_BUNDLE$/, grpcMessage: /no longer verifies.*partner\.test.*ERR_SPIFFE_VERIFY_NO_BUNDLE/ }, before)
})

t.test('(b) a CRL revokes the partner backend certificate', async (t) => {
  const snapshots = new TestSnapshots(await makeSvid(own, '/lb'), [own.bundle, partner.bundle])
  const events: TrustWithdrawnEvent[] = []
  const connect = createBackendConnector({ snapshots, onTrustWithdrawn: (e) => { events.push(e) } })
  t.teardown(() => { connect.close() })
  const port = await proxyFor(t, connect, connect)
  const before = lost.stats().connections
  const streams = { lost: await openStreams(port, 'lost'), kept: await openStreams(port, 'kept') }
  t.teardown(() => { streams.lost.close(); streams.kept.close() })
  const now = Date.now()
  snapshots.publish({
    revocation: new Map([[partner.name, { lists: [{ issuerFingerprint: partner.ca.cert.fingerprint256, revokedSerials: new Set([normalizeSerial(partnerSvid.leaf.serialNumber)]), thisUpdate: now - 1000, nextUpdate: now + 3_600_000, source: 'test crl' }] }]])
  })
  await checkEnds(t, streams, events, { wsCode: 1008, code: 'ERR_SPIFFE_TLS_PEER_UNTRUSTED', reason: /^ERR_SPIFFE_VERIFY_REVOKED$/, grpcMessage: /no longer verifies.*revoked.*ERR_SPIFFE_VERIFY_REVOKED/ }, before)
})

t.test('(c) the proxy SVID expires', async (t) => {
  const clock = new ManualClock(Date.now())
  const expiring = await makeSvid(own, '/lb', { lifetimeMs: 3_600_000 })
  const events: TrustWithdrawnEvent[] = []
  const lostConnect = createBackendConnector({ snapshots: new TestSnapshots(expiring, [own.bundle, partner.bundle]), clock, onTrustWithdrawn: (e) => { events.push(e) } })
  t.teardown(() => { lostConnect.close() })
  // Another identity's connector: its SVID is not the one expiring.
  const keptConnect = createBackendConnector({ snapshots: new TestSnapshots(await makeSvid(own, '/lb-other'), [own.bundle]) })
  t.teardown(() => { keptConnect.close() })
  const port = await proxyFor(t, lostConnect, keptConnect)
  const before = lost.stats().connections
  const streams = { lost: await openStreams(port, 'lost'), kept: await openStreams(port, 'kept') }
  t.teardown(() => { streams.lost.close(); streams.kept.close() })
  clock.advance(expiring.notAfter - clock.now() + 1)
  await checkEnds(t, streams, events, { wsCode: 1011, code: 'ERR_SPIFFE_TLS_SVID_UNUSABLE', reason: /^ERR_SPIFFE_TLS_SVID_UNUSABLE$/, grpcMessage: /svid "spiffe:\/\/own\.test\/lb" expired/ }, before)
})

t.test('an unrelated trust change ends nothing', async (t) => {
  const snapshots = new TestSnapshots(await makeSvid(own, '/lb'), [own.bundle, partner.bundle])
  const events: TrustWithdrawnEvent[] = []
  const connect = createBackendConnector({ snapshots, onTrustWithdrawn: (e) => { events.push(e) } })
  t.teardown(() => { connect.close() })
  const port = await proxyFor(t, connect, connect)
  const streams = await openStreams(port, 'lost')
  t.teardown(() => { streams.close() })
  const other = await makeDomain('other.test')
  snapshots.publish({ bundles: [own.bundle, partner.bundle, other.bundle] })
  await checkFlowing(t, streams)
  t.same(events, [], 'no connection ended')
})
