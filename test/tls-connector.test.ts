import net from 'node:net'
import type { AddressInfo } from 'node:net'
import { once } from 'node:events'
import tls from 'node:tls'
import type { TLSSocket } from 'node:tls'
import t from 'tap'
import { ManualClock } from '../src/internal/clock.ts'
import { createSubordinateCa, issueSvidCertificate } from '../src/pki/index.ts'
import { createBackendConnector } from '../src/tls/backend-connector.ts'
import type { BackendConnector, BackendConnectorOptions, HandshakeEvent } from '../src/tls/backend-connector.ts'
import { TLS_ERROR } from '../src/tls/errors.ts'
import { peerIdentity, verifiedPeer } from '../src/tls/peer-identity.ts'
import { TestSnapshots, makeDomain, makeRawCert, makeSvid, startRawBackend } from './tls-fixtures.ts'
import type { RawBackend } from './tls-fixtures.ts'

const HOUR = 3_600_000
const [a, b, c] = await Promise.all([makeDomain('a.test'), makeDomain('b.test'), makeDomain('c.test')])
const lbSvid = await makeSvid(a, '/lb/frontend', { lifetimeMs: 10 * HOUR })

type Dialed = { socket: TLSSocket, error?: undefined } | { socket?: undefined, error: Error & { code?: string, reason?: string } }

/** Connects through `connector`; on success sends `ping`, waits for `pong`, and closes. */
async function dial (connector: BackendConnector, port: number): Promise<Dialed> {
  const result = await new Promise<Dialed>((resolve) => {
    connector({ hostname: '127.0.0.1', protocol: 'https:', port: String(port) }, (err, socket) => {
      resolve(err === null ? { socket: socket as TLSSocket } : { error: err })
    })
  })
  if (result.socket !== undefined) {
    result.socket.write('ping')
    // The server sends its TLS 1.3 tickets right after the handshake, before `pong`; records
    // arrive in order, so once `pong` is read the 'session' event has fired.
    await once(result.socket, 'data')
    result.socket.end()
  }
  return result
}

function setup (overrides: Partial<BackendConnectorOptions> = {}): { snapshots: TestSnapshots, events: HandshakeEvent[], connector: BackendConnector, clock: ManualClock, contexts: () => number } {
  const snapshots = new TestSnapshots(lbSvid, [a.bundle, b.bundle])
  const events: HandshakeEvent[] = []
  const clock = new ManualClock(Date.now())
  let built = 0
  const connector = createBackendConnector({
    snapshots,
    clock,
    onHandshake: (e) => events.push(e),
    createSecureContext: (o) => { built++; return tls.createSecureContext(o) },
    ...overrides
  })
  t.teardown(() => connector.close())
  return { snapshots, events, connector, clock, contexts: () => built }
}

async function backendWith (chainPem: string, keyPem: string, opts: { maxVersion?: tls.SecureVersion } = {}): Promise<RawBackend> {
  const backend = await startRawBackend(chainPem, keyPem, opts)
  t.teardown(() => backend.close())
  return backend
}

for (const [label, domain] of [['its own trust domain', a], ['a second trust domain whose bundle is loaded', b]] as const) {
  t.test(`accepts a backend in ${label}`, async (t) => {
    const svid = await makeSvid(domain, '/backend')
    const backend = await backendWith(svid.chainPem(), svid.privateKeyPem())
    const { connector, events } = setup()
    const r = await dial(connector, backend.port)
    t.equal(r.error, undefined)
    t.equal(peerIdentity(r.socket ?? {})?.toString(), `spiffe://${domain.name}/backend`)
    t.equal(backend.bytesReceived(), 4, 'application data flowed')
    t.match(events, [{ result: 'ok', trustDomain: domain.name, peerId: `spiffe://${domain.name}/backend`, resumed: false }])
  })
}

const rejections: Array<[string, () => Promise<{ chainPem: string, keyPem: string }>, string]> = [
  ['an untrusted trust domain', async () => svidPem(await makeSvid(c, '/backend')), 'ERR_SPIFFE_VERIFY_NO_BUNDLE'],
  ['an id in domain A signed by domain B\'s CA', async () => makeRawCert(b.ca, { uris: ['spiffe://a.test/evil'] }), 'ERR_SPIFFE_VERIFY_NO_PATH'],
  ['an expired certificate', async () => makeRawCert(a.ca, { uris: ['spiffe://a.test/old'], notBefore: Date.now() - 3 * HOUR, notAfter: Date.now() - HOUR }), 'ERR_SPIFFE_SVID_EXPIRED'],
  ['no URI SAN', async () => makeRawCert(a.ca, { subject: 'CN=backend', dnsNames: ['backend.a.test'] }), 'ERR_SPIFFE_SVID_NO_URI_SAN']
]
for (const [label, make, reason] of rejections) {
  t.test(`rejects a backend with ${label}, writing no byte to it`, async (t) => {
    const { chainPem, keyPem } = await make()
    const backend = await backendWith(chainPem, keyPem)
    const { connector, events } = setup()
    const r = await dial(connector, backend.port)
    t.equal(r.socket, undefined)
    t.equal(r.error?.code, TLS_ERROR.PEER_REJECTED)
    t.equal(r.error?.reason, reason)
    t.equal((r.error?.cause as { code?: string } | undefined)?.code, reason, 'cause is the verify error')
    await backend.closedConnections(1)
    t.equal(backend.bytesReceived(), 0, 'no application byte reached the backend')
    t.match(events, [{ result: reason, resumed: false }])
    t.equal(connector.cachedSessions, 0, 'no session kept for a rejected backend')
  })
}

function svidPem (svid: { chainPem: () => string, privateKeyPem: () => string }): { chainPem: string, keyPem: string } {
  return { chainPem: svid.chainPem(), keyPem: svid.privateKeyPem() }
}

t.test('fails closed without usable credentials', async (t) => {
  const backend = await backendWith(...Object.values(svidPem(await makeSvid(a, '/backend'))) as [string, string])
  const none = setup({ snapshots: new TestSnapshots() })
  const r1 = await dial(none.connector, backend.port)
  t.equal(r1.error?.code, TLS_ERROR.NO_CREDENTIALS)
  const expired = setup()
  expired.clock.advance(11 * HOUR) // past the proxy SVID's notAfter
  const r2 = await dial(expired.connector, backend.port)
  t.equal(r2.error?.code, TLS_ERROR.NO_CREDENTIALS)
  const vetoed = setup({ snapshots: Object.assign(new TestSnapshots(lbSvid, [a.bundle]), { usable: () => false }) })
  const r3 = await dial(vetoed.connector, backend.port)
  t.equal(r3.error?.code, TLS_ERROR.NO_CREDENTIALS)
  t.equal(backend.handshakes(), 0, 'no handshake attempted')
  t.match(none.events, [{ result: TLS_ERROR.NO_CREDENTIALS }])
})

t.test('a backend that never answers the handshake times out with a coded error', async (t) => {
  const silent = net.createServer(() => {})
  silent.listen(0, '127.0.0.1')
  await once(silent, 'listening')
  const sockets: net.Socket[] = []
  silent.on('connection', (s) => sockets.push(s))
  t.teardown(() => { for (const s of sockets) s.destroy(); silent.close() })
  const { connector, clock, events } = setup({ handshakeTimeoutMs: 500 })
  const pending = new Promise<Error | null>((resolve) => {
    connector({ hostname: '127.0.0.1', protocol: 'https:', port: (silent.address() as AddressInfo).port }, (...args) => resolve(args[0]))
  })
  await once(silent, 'connection')
  clock.advance(499)
  clock.advance(1)
  const err = await pending
  t.match(err, { code: TLS_ERROR.HANDSHAKE_TIMEOUT })
  t.match(events, [{ result: TLS_ERROR.HANDSHAKE_TIMEOUT }])
})

t.test('a refused TCP connection passes the transport error on', async (t) => {
  const probe = net.createServer().listen(0, '127.0.0.1')
  await once(probe, 'listening')
  const port = (probe.address() as AddressInfo).port
  probe.close()
  await once(probe, 'close')
  const { connector, events } = setup()
  const r = await dial(connector, port)
  t.equal(r.error?.code, 'ECONNREFUSED')
  t.match(events, [{ result: TLS_ERROR.CONNECT_FAILED, errorCode: 'ECONNREFUSED' }])
})

for (const version of ['TLSv1.3', 'TLSv1.2'] as const) {
  t.test(`${version}: the second connection resumes and keeps the verified identity`, async (t) => {
    const svid = await makeSvid(b, '/backend')
    const backend = await backendWith(svid.chainPem(), svid.privateKeyPem(), { maxVersion: version })
    const { connector, events } = setup()
    t.equal((await dial(connector, backend.port)).socket?.getProtocol(), version)
    const second = await dial(connector, backend.port)
    t.equal(second.socket?.isSessionReused(), true)
    t.equal(peerIdentity(second.socket ?? {})?.toString(), 'spiffe://b.test/backend')
    t.equal(verifiedPeer(second.socket ?? {})?.resumed, true)
    t.equal(backend.resumed(), 1)
    t.match(events, [{ result: 'ok', resumed: false }, { result: 'ok', resumed: true, peerId: 'spiffe://b.test/backend' }])
    // A fresh cached session is kept: the resumed connection does not take the backend's newer
    // tickets (Node serializes them only for a 'session' listener), and the next one resumes too.
    t.equal(second.socket?.listenerCount('session'), 0, 'a resumed connection does not store tickets while the cached one is fresh')
    const third = await dial(connector, backend.port)
    t.equal(third.socket?.isSessionReused(), true)
    t.equal(backend.resumed(), 2)
    t.equal(connector.cachedSessions, 1)
  })
}

t.test('a resumed session is re-verified: an expired backend cert is refused on resumption', async (t) => {
  const svid = await makeSvid(a, '/backend', { lifetimeMs: HOUR })
  const backend = await backendWith(svid.chainPem(), svid.privateKeyPem())
  const { connector, clock, events } = setup()
  t.equal((await dial(connector, backend.port)).error, undefined)
  clock.advance(2 * HOUR) // the backend's SVID has expired, the proxy's has not
  const r = await dial(connector, backend.port)
  t.equal(r.error?.code, TLS_ERROR.PEER_REJECTED)
  t.match(events[1], { resumed: true, result: r.error?.reason })
  await backend.closedConnections(2)
  t.equal(backend.bytesReceived(), 4, 'only the first connection sent data')
})

const changes: Array<[string, (s: TestSnapshots) => Promise<unknown>]> = [
  ['a bundle change (new bundleGeneration)', async (s) => s.publish({ bundles: [a.bundle, b.bundle] })],
  ['an SVID rotation (new svidGeneration)', async (s) => s.publish({ svid: await makeSvid(a, '/lb/frontend', { lifetimeMs: 10 * HOUR }) })]
]
for (const [label, change] of changes) {
  t.test(`after ${label} the next connection does a full, verified handshake`, async (t) => {
    const svid = await makeSvid(b, '/backend')
    const backend = await backendWith(svid.chainPem(), svid.privateKeyPem())
    const { connector, snapshots, events } = setup()
    await dial(connector, backend.port)
    t.equal(connector.cachedSessions, 1)
    await change(snapshots)
    t.equal(connector.cachedSessions, 0, 'stale sessions flushed')
    const r = await dial(connector, backend.port)
    t.equal(r.socket?.isSessionReused(), false)
    t.equal(backend.handshakes(), 2)
    t.equal(backend.resumed(), 0)
    t.match(events, [{ resumed: false, result: 'ok' }, { resumed: false, result: 'ok' }])
    t.equal((await dial(connector, backend.port)).socket?.isSessionReused(), true, 'resumes again under the new generation')
  })
}

t.test('a removed trust domain makes the next connection fail although a session exists', async (t) => {
  const svid = await makeSvid(b, '/backend')
  const backend = await backendWith(svid.chainPem(), svid.privateKeyPem())
  const { connector, snapshots } = setup()
  await dial(connector, backend.port)
  t.equal(connector.cachedSessions, 1, 'a session for the backend is cached')
  snapshots.publish({ bundles: [a.bundle] })
  const r = await dial(connector, backend.port)
  t.equal(r.error?.code, TLS_ERROR.PEER_REJECTED)
  await backend.closedConnections(2)
  t.equal(backend.resumed(), 0, 'the old session was not resumed')
  t.equal(backend.bytesReceived(), 4)
})

t.test('the SecureContext is built once per SVID generation', async (t) => {
  const svid = await makeSvid(a, '/backend')
  const backend = await backendWith(svid.chainPem(), svid.privateKeyPem())
  const { connector, snapshots, contexts } = setup({ sessionResumption: false })
  for (let i = 0; i < 3; i++) t.equal((await dial(connector, backend.port)).error, undefined)
  t.equal(contexts(), 1)
  snapshots.publish({ bundles: [a.bundle] })
  await dial(connector, backend.port)
  t.equal(contexts(), 1, 'a trust change does not rebuild it')
  snapshots.publish({ svid: await makeSvid(a, '/lb/frontend', { lifetimeMs: 10 * HOUR }) })
  t.equal(contexts(), 2, 'built when the rotation is published, off the hot path')
  for (let i = 0; i < 2; i++) await dial(connector, backend.port)
  t.equal(contexts(), 2)
  t.equal(backend.resumed(), 0, 'sessionResumption: false never resumes')
})

t.test('TLS parameters: TLS 1.3 preferred, 1.2 floor, groups, bad values refused up front', async (t) => {
  const svid = await makeSvid(a, '/backend')
  const backend = await backendWith(svid.chainPem(), svid.privateKeyPem())
  const { connector } = setup({ groups: ['X25519', 'P-256'] })
  const r = await dial(connector, backend.port)
  t.equal(r.socket?.getProtocol(), 'TLSv1.3')
  t.match(r.socket?.getEphemeralKeyInfo(), { name: 'X25519' })
  // Without a setting the connector offers X25519 first (DEFAULT_BACKEND_GROUPS), not the
  // post-quantum hybrid Node would put first; a service can still ask for any group.
  const byDefault = await dial(setup().connector, backend.port)
  t.match(byDefault.socket?.getEphemeralKeyInfo(), { name: 'X25519' })
  const p256 = await dial(setup({ groups: ['P-256'] }).connector, backend.port)
  t.match(p256.socket?.getEphemeralKeyInfo(), { name: 'prime256v1' })
  const bad: Array<Partial<BackendConnectorOptions>> = [
    { minVersion: 'TLSv1.1' }, { minVersion: 'TLSv1.3', maxVersion: 'TLSv1.2' }, { groups: ['no-such-group'] }
  ]
  for (const params of bad) {
    t.throws(() => createBackendConnector({ snapshots: new TestSnapshots(), ...params }), { code: TLS_ERROR.BAD_PARAMETERS }, JSON.stringify(params))
  }
})

t.test('accepts a backend that sends an intermediate and even its root', async (t) => {
  const sub = await createSubordinateCa(a.ca, { subject: 'CN=a.test intermediate', keyAlgorithm: 'ECDSA_P256' })
  const issued = await issueSvidCertificate(sub, { uri: 'spiffe://a.test/deep', lifetimeMs: HOUR, notBefore: Date.now() - 60_000 })
  const backend = await backendWith(issued.chainPem + a.ca.certPem, issued.keyPem)
  const { connector } = setup()
  const r = await dial(connector, backend.port)
  t.equal(peerIdentity(r.socket ?? {})?.toString(), 'spiffe://a.test/deep')
  t.equal(verifiedPeer(r.socket ?? {})?.chain.length, 3)
  t.equal((await dial(connector, backend.port)).socket?.isSessionReused(), true)
})

t.test('a backend leaf is verified once per trust generation; each reuse still checks the path\'s validity', async (t) => {
  const svid = await makeSvid(a, '/backend', { lifetimeMs: HOUR })
  const backend = await backendWith(svid.chainPem(), svid.privateKeyPem())
  const { connector, snapshots, clock, events } = setup({ sessionResumption: false })
  const bundles = snapshots.current()?.bundles
  if (bundles === undefined) throw new Error('no snapshot')
  let lookups = 0
  const lookup = bundles.getBundleForTrustDomain.bind(bundles)
  bundles.getBundleForTrustDomain = (td) => { lookups++; return lookup(td) }
  for (let i = 0; i < 3; i++) t.equal((await dial(connector, backend.port)).error, undefined)
  t.equal(lookups, 1, 'three full handshakes, one verification')
  t.equal(backend.handshakes(), 3)
  snapshots.publish({ bundles: [a.bundle, b.bundle] }) // same anchors, new trust generation
  t.equal((await dial(connector, backend.port)).error, undefined)
  t.equal(events.length, 4)
  clock.advance(2 * HOUR) // the backend's leaf expired: a cached verdict must not outlive it
  const r = await dial(connector, backend.port)
  t.equal(r.error?.reason, 'ERR_SPIFFE_SVID_EXPIRED')
})

t.test('an IPv6 backend is labelled [::1]:port in handshake events, as host:port is written everywhere', async (t) => {
  const svid = await makeSvid(a, '/backend-v6')
  const server = tls.createServer({ cert: svid.chainPem(), key: svid.privateKeyPem(), requestCert: true, rejectUnauthorized: false, ca: [] }, (s) => {
    s.on('data', () => { s.write('pong') })
    s.on('error', () => {})
  })
  server.listen(0, '::1')
  await once(server, 'listening')
  t.teardown(() => { server.close() })
  const port = (server.address() as AddressInfo).port
  const { connector, events } = setup()
  for (const hostname of ['::1', '[::1]']) {
    const r = await new Promise<Dialed>((resolve) => {
      connector({ hostname, protocol: 'https:', port: String(port) }, (err, socket) => { resolve(err === null ? { socket: socket as TLSSocket } : { error: err }) })
    })
    t.equal(r.error, undefined, `connected to ${hostname}`)
    r.socket?.destroy()
  }
  t.same(events.map((e) => [e.result, e.endpoint]), [['ok', `[::1]:${port}`], ['ok', `[::1]:${port}`]])
})
