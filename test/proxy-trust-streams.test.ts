// Long-lived traffic follows trust: a WebSocket, a gRPC server stream, an HTTP/2 streaming
// response and a chunked HTTP/1.1 response run through the proxy to a partner backend; then
// (a) the partner's trust domain is removed, (b) a CRL revokes the partner backend's
// certificate, or (c) the proxy's own SVID expires. Each stream must end with its protocol's
// signal (WebSocket close 1008/1011, grpc-status UNAVAILABLE naming the reason, an HTTP/2
// RST_STREAM, a cut HTTP/1.1 connection), the connector must report each connection it ended
// once, and streams to a backend that still verifies must keep flowing.
import http from 'node:http'
import http2 from 'node:http2'
import t, { type Test } from 'tap'
import * as grpc from '@grpc/grpc-js'
import WebSocket from 'ws'
import { ManualClock } from '../src/internal/clock.ts'
import { startTestProxy, testService } from '../src/proxy/test-support.ts'
import { normalizeSerial } from '../src/spiffe/revocation.ts'
import { createBackendConnector, type BackendConnector } from '../src/tls/backend-connector.ts'
import { startEchoBackend } from '../src/tls/echo-backend.ts'
import { ECHO_SERVICE } from '../src/tls/echo-grpc.ts'
import type { TrustWithdrawnEvent } from '../src/tls/live-connections.ts'
import { TestSnapshots, makeDomain, makeSvid } from './tls-fixtures.ts'

const [own, partner] = await Promise.all([makeDomain('own.test'), makeDomain('partner.test')])
const partnerSvid = await makeSvid(partner, '/backend/partner')
const lost = await startEchoBackend({ listen: '127.0.0.1:0', name: 'partner', snapshots: new TestSnapshots(partnerSvid, [own.bundle, partner.bundle]) })
t.teardown(() => lost.close(0))
const kept = await startEchoBackend({ listen: '127.0.0.1:0', name: 'own', snapshots: new TestSnapshots(await makeSvid(own, '/backend/own'), [own.bundle]) })
t.teardown(() => kept.close(0))

const Echo = grpc.makeGenericClientConstructor(ECHO_SERVICE, 'Echo')
type Ticks = (req: Buffer) => grpc.ClientReadableStream<Buffer>

/** Resolves with `p`, or rejects after `ms` naming `what` (a stream that never ends fails the test). */
async function within<T> (p: Promise<T>, what: string, ms = 10_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const limit = new Promise<never>((_resolve, reject) => { timer = setTimeout(() => { reject(new Error(`gave up waiting for ${what}`)) }, ms) })
  try { return await Promise.race([p, limit]) } finally { clearTimeout(timer) }
}

/** One open stream of each kind through the proxy at `port`; each promise says how it ended. */
async function openStreams (port: number, prefix: 'lost' | 'kept'): Promise<{
  ws: Promise<number>, grpc: Promise<grpc.ServiceError | 'ended'>, h2: Promise<{ rstCode: number, ended: boolean }>,
  h1: Promise<{ complete: boolean }>, ticks: () => number, close: () => void
}> {
  let ticks = 0
  const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`, { headers: { host: `${prefix}-h1.test` } })
  ws.on('error', () => {})
  await within(new Promise((resolve) => { ws.once('open', resolve) }), 'the websocket to open')
  const wsClosed = new Promise<number>((resolve) => { ws.once('close', (code: number) => { resolve(code) }) })
  ws.on('message', () => { ticks++ })
  const pinger = setInterval(() => { if (ws.readyState === WebSocket.OPEN) ws.send('ping') }, 100)
  void wsClosed.then(() => { clearInterval(pinger) })

  const client = new Echo(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), { 'grpc.default_authority': `${prefix}-h2.test` })
  const call = (client as unknown as { ticks: Ticks }).ticks(Buffer.from('tick'))
  const grpcEnded = new Promise<grpc.ServiceError | 'ended'>((resolve) => {
    call.on('error', (err: grpc.ServiceError) => { resolve(err) })
    call.on('end', () => { resolve('ended') })
  })
  await within(new Promise((resolve) => { call.once('data', resolve) }), 'the first grpc message')
  call.on('data', () => { ticks++ })

  const session = http2.connect(`http://127.0.0.1:${port}`)
  session.on('error', () => {})
  const stream = session.request({ ':path': '/ticks', ':authority': `${prefix}-h2.test` })
  stream.on('error', () => {})
  let h2ended = false
  stream.on('end', () => { h2ended = true })
  const h2Closed = new Promise<{ rstCode: number, ended: boolean }>((resolve) => { stream.once('close', () => { resolve({ rstCode: stream.rstCode ?? 0, ended: h2ended }) }) })
  await within(new Promise((resolve) => { stream.once('data', resolve) }), 'the first h2 chunk')
  stream.on('data', () => { ticks++ })

  const res = await within(new Promise<http.IncomingMessage>((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: '/ticks', agent: false, headers: { host: `${prefix}-h1.test` } }, resolve)
    req.on('error', reject)
    req.end()
  }), 'the chunked response')
  res.on('error', () => {})
  const h1Closed = new Promise<{ complete: boolean }>((resolve) => { res.once('close', () => { resolve({ complete: res.complete }) }) })
  await within(new Promise((resolve) => { res.once('data', resolve) }), 'the first chunk')
  res.on('data', () => { ticks++ })

  return {
    ws: wsClosed,
    grpc: grpcEnded,
    h2: h2Closed,
    h1: h1Closed,
    ticks: () => ticks,
    close: () => { ws.terminate(); call.cancel(); client.close(); session.destroy(); res.destroy() }
  }
}

/** Starts a proxy with `lost-*` services to the partner backend and `kept-*` ones to the own-domain backend. */
async function proxyFor (t: Test, lostConnect: BackendConnector, keptConnect: BackendConnector): Promise<number> {
  const services = [
    testService('lost-h1', [lost], { protocol: 'HTTPS', connect: lostConnect, credentialChanges: lostConnect, timeoutMs: 60_000 }),
    testService('lost-h2', [lost], { protocol: 'HTTP2', connect: lostConnect, credentialChanges: lostConnect, timeoutMs: 60_000 }),
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

/** Checks how each stream to the partner ended, and that the other streams still flow. */
async function checkEnds (t: Test, streams: { lost: Awaited<ReturnType<typeof openStreams>>, kept: Awaited<ReturnType<typeof openStreams>> },
  events: TrustWithdrawnEvent[], expect: { wsCode: number, code: string, reason: RegExp, message: RegExp }, connectionsBefore: number): Promise<void> {
  const { lost: l, kept: k } = streams
  t.equal(await within(l.ws, 'the websocket to close'), expect.wsCode, `websocket closed with ${expect.wsCode}`)
  const g = await within(l.grpc, 'the grpc call to end')
  t.equal(g === 'ended' ? 'ended' : g.code, grpc.status.UNAVAILABLE, 'grpc call ended UNAVAILABLE')
  if (g !== 'ended') t.match(g.details, expect.message, 'grpc-message names the reason')
  const h2 = await within(l.h2, 'the h2 stream to close')
  t.notOk(h2.ended, 'the h2 stream did not end normally')
  t.not(h2.rstCode, 0, `the h2 stream was reset (code ${h2.rstCode})`)
  t.same(await within(l.h1, 'the chunked response to be cut'), { complete: false }, 'the chunked response was cut, not finished')

  t.ok(events.length > 0, `connections ended: ${events.length}`)
  t.ok(events.every((e) => e.code === expect.code && expect.reason.test(e.reason) && e.endpoint === `127.0.0.1:${lost.port}`), 'each event names the partner endpoint and the rule')
  t.equal(events.length, lost.stats().connections - connectionsBefore, 'one event per connection to the partner, each reported once')

  const before = k.ticks()
  await within((async () => { while (k.ticks() < before + 8) await new Promise((resolve) => setTimeout(resolve, 50)) })(), 'the streams to the own-domain backend to keep flowing')
  t.pass('streams to a backend that still verifies keep flowing')
  const more = await Promise.race([k.ws.then(() => 'ws'), k.grpc.then(() => 'grpc'), k.h2.then(() => 'h2'), k.h1.then(() => 'h1'), new Promise((resolve) => setTimeout(resolve, 300, 'open'))])
  t.equal(more, 'open', 'no stream to the own-domain backend ended')
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
  snapshots.publish({ bundles: [own.bundle] })
  await checkEnds(t, streams, events, { wsCode: 1008, code: 'ERR_SPIFFE_TLS_PEER_UNTRUSTED', reason: /^ERR_SPIFFE_VERIFY_NO_BUNDLE$/, message: /no longer verifies.*partner\.test.*ERR_SPIFFE_VERIFY_NO_BUNDLE/ }, before)
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
  await checkEnds(t, streams, events, { wsCode: 1008, code: 'ERR_SPIFFE_TLS_PEER_UNTRUSTED', reason: /^ERR_SPIFFE_VERIFY_REVOKED$/, message: /no longer verifies.*revoked.*ERR_SPIFFE_VERIFY_REVOKED/ }, before)
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
  await checkEnds(t, streams, events, { wsCode: 1011, code: 'ERR_SPIFFE_TLS_SVID_UNUSABLE', reason: /^ERR_SPIFFE_TLS_SVID_UNUSABLE$/, message: /svid "spiffe:\/\/own\.test\/lb" expired/ }, before)
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
  const before = streams.ticks()
  await within((async () => { while (streams.ticks() < before + 8) await new Promise((resolve) => setTimeout(resolve, 50)) })(), 'the streams to keep flowing')
  t.same(events, [], 'no connection ended')
})
