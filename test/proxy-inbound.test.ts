// The inbound listener (frontend.inbound) through the proxy's public API: SPIFFE client
// verification in both modes in front of a plain application, the custom mTLS headers, spoofed
// headers, allowedPeers, and trust changes on open connections.
import { createHash, X509Certificate } from 'node:crypto'
import { once } from 'node:events'
import https from 'node:https'
import type { AddressInfo } from 'node:net'
import t from 'tap'
import { ManualClock, systemClock, type Clock } from '../src/internal/clock.ts'
import { plainConnector } from '../src/proxy/plain-connector.ts'
import { createProxy } from '../src/proxy/proxy.ts'
import type { CustomHeader, InboundEvent } from '../src/proxy/types.ts'
import type { ClientValidationMode } from '../src/enums.ts'
import { SpiffeIdPattern } from '../src/spiffe/id-pattern.ts'
import { normalizeSerial } from '../src/spiffe/revocation.ts'
import { createClientVerifier } from '../src/tls/client-verifier.ts'
import { call, conformanceClients, startCountingApp, type ClientCert } from './inbound-fixtures.ts'
import { TestSnapshots, makeDomain, makeSvid } from './tls-fixtures.ts'

const [a, b, c] = await Promise.all([makeDomain('a.test'), makeDomain('b.test'), makeDomain('c.test')])
const serverSvid = await makeSvid(a, '/ns/app/sa/api')
const pem = (svid: Awaited<ReturnType<typeof makeSvid>>): ClientCert => ({ cert: svid.chainPem(), key: svid.privateKeyPem() })
const clientA = await makeSvid(a, '/ns/lb/sa/frontend', { dnsNames: ['front.a.test'] })
const clientB = await makeSvid(b, '/ns/lb/sa/partner')
const bad = await conformanceClients(a, b, c)

const header = (name: string, variable: CustomHeader['parts'][number] & { variable: string }): CustomHeader => ({ name, parts: [variable] })
const HEADERS: CustomHeader[] = [
  header('x-client-cert-present', { variable: 'client_cert_present' }),
  header('x-client-cert-chain-verified', { variable: 'client_cert_chain_verified' }),
  header('x-client-cert-error', { variable: 'client_cert_error' }),
  header('x-client-cert-error-code', { variable: 'client_cert_error_code' }),
  header('x-client-cert-spiffe', { variable: 'client_cert_spiffe_id' }),
  header('x-client-cert-hash', { variable: 'client_cert_sha256_fingerprint' }),
  header('x-client-cert-dnsname-sans', { variable: 'client_cert_dnsname_sans' }),
  header('x-client-cert-leaf', { variable: 'client_cert_leaf' }),
  header('x-client-cert-not-after', { variable: 'client_cert_valid_not_after' })
]

async function start (t: { teardown: (fn: () => Promise<void>) => void }, mode: ClientValidationMode, allowedPeers?: string[], clock: Clock = systemClock) {
  const app = await startCountingApp()
  const snapshots = new TestSnapshots(serverSvid, [a.bundle, b.bundle])
  const events: InboundEvent[] = []
  const verifier = createClientVerifier({ snapshots, clock, ...(allowedPeers === undefined ? {} : { allowedPeers: allowedPeers.map((p) => SpiffeIdPattern.parse(p)) }) })
  const proxy = createProxy({
    frontend: { host: '127.0.0.1', port: 0, inbound: { verifier, mode, clock, onEvent: (e) => events.push(e) } },
    services: [{
      name: 'app', endpoints: [{ host: '127.0.0.1', port: app.port }], policy: 'ROUND_ROBIN', timeoutMs: 5000, protocol: 'HTTP',
      connectionPool: { maxRequestsPerConnection: 0, keepAlive: true }, connect: plainConnector(), customRequestHeaders: HEADERS
    }],
    urlMap: { defaultService: 'app' }
  })
  const address: AddressInfo = await proxy.listen()
  t.teardown(async () => { await proxy.close(0); await app.close() })
  return { app, port: address.port, events, snapshots }
}

const SPOOF = { 'X-Client-Cert-Present': 'true', 'X-Client-Cert-Chain-Verified': 'true', 'X-Client-Cert-SPIFFE': 'spiffe://a.test/admin', 'X-Client-Cert-Other': 'forged' }

t.test('REJECT_INVALID: every conformance case is refused before the app sees a byte', async (t) => {
  const s = await start(t, 'REJECT_INVALID')
  for (const { name, client } of bad) {
    const r = await call(s.port, client, { headers: SPOOF })
    t.ok('error' in r, `${name}: the connection is refused`)
  }
  t.equal(s.app.requests.length, 0, 'nothing reached the application')
  const refused = s.events.filter((e) => e.outcome === 'refused')
  t.equal(refused.length, bad.length)
  t.same(refused.map((e) => e.verdict.code), [
    'ERR_SPIFFE_SVID_MULTIPLE_URI_SANS', 'ERR_SPIFFE_SVID_IS_CA', 'ERR_SPIFFE_SVID_EXPIRED', 'ERR_SPIFFE_SVID_NOT_YET_VALID',
    'ERR_SPIFFE_VERIFY_NO_PATH', 'ERR_SPIFFE_VERIFY_NO_BUNDLE', 'ERR_SPIFFE_TLS_NO_PEER_CERTIFICATE'
  ])
  for (const maxVersion of ['TLSv1.2', 'TLSv1.3'] as const) {
    const ok = await call(s.port, pem(clientA), { path: `/hello-${maxVersion}`, headers: SPOOF, maxVersion })
    t.match(ok, { status: 200, body: `app saw /hello-${maxVersion}` }, `${maxVersion}: a valid client gets through`)
  }
  const seen = s.app.requests[0]?.headers ?? {}
  t.equal(seen['x-client-cert-present'], 'true')
  t.equal(seen['x-client-cert-chain-verified'], 'true')
  t.equal(seen['x-client-cert-spiffe'], 'spiffe://a.test/ns/lb/sa/frontend', 'the verified id, not the spoofed one')
  t.equal(seen['x-client-cert-error'], '')
  t.equal(seen['x-client-cert-other'], undefined, 'an unconfigured X-Client-Cert-* header is removed too')
  const leaf = new X509Certificate(clientA.chainPem())
  t.equal(seen['x-client-cert-hash'], createHash('sha256').update(leaf.raw).digest('base64'))
  t.equal(seen['x-client-cert-leaf'], `:${leaf.raw.toString('base64')}:`)
  t.equal(seen['x-client-cert-dnsname-sans'], Buffer.from('front.a.test').toString('base64'))
  t.equal(seen['x-client-cert-not-after'], leaf.validToDate.toISOString().replace(/\.\d{3}Z$/, '+00:00'))
  t.match(await call(s.port, pem(clientB)), { status: 200 }, 'a federated domain is verified by its own bundle')
})

t.test('ALLOW_INVALID_OR_MISSING_CLIENT_CERT: forwarded with headers saying why', async (t) => {
  const s = await start(t, 'ALLOW_INVALID_OR_MISSING_CLIENT_CERT')
  for (const { name, client } of bad) {
    t.match(await call(s.port, client, { headers: SPOOF }), { status: 200 }, `${name}: forwarded`)
  }
  t.equal(s.app.requests.length, bad.length)
  const seen = s.app.requests.map((r) => [r.headers['x-client-cert-present'], r.headers['x-client-cert-chain-verified'], r.headers['x-client-cert-error'], r.headers['x-client-cert-error-code'], r.headers['x-client-cert-leaf']])
  t.same(seen, [
    ['true', 'false', 'client_cert_validation_failed', 'ERR_SPIFFE_SVID_MULTIPLE_URI_SANS', ''],
    ['true', 'false', 'client_cert_validation_failed', 'ERR_SPIFFE_SVID_IS_CA', ''],
    ['true', 'false', 'client_cert_validation_failed', 'ERR_SPIFFE_SVID_EXPIRED', ''],
    ['true', 'false', 'client_cert_validation_failed', 'ERR_SPIFFE_SVID_NOT_YET_VALID', ''],
    ['true', 'false', 'client_cert_validation_failed', 'ERR_SPIFFE_VERIFY_NO_PATH', ''],
    ['true', 'false', 'client_cert_validation_failed', 'ERR_SPIFFE_VERIFY_NO_BUNDLE', ''],
    ['false', 'false', 'client_cert_not_provided', 'ERR_SPIFFE_TLS_NO_PEER_CERTIFICATE', '']
  ])
  t.equal(s.app.requests.filter((r) => r.headers['x-client-cert-other'] !== undefined).length, 0, 'no spoofed header got through')
  t.equal(s.app.requests[4]?.headers['x-client-cert-spiffe'], 'spiffe://a.test/crossed', 'the unverified id is told as the cloud tells it')
})

t.test('allowedPeers: a verified client not listed is answered 403 with the code', async (t) => {
  const s = await start(t, 'REJECT_INVALID', ['spiffe://b.test/**'])
  const r = await call(s.port, pem(clientA))
  t.match(r, { status: 403, body: /^ERR_SPIFFE_TLS_PEER_NOT_ALLOWED: client .*spiffe:\/\/a\.test\/ns\/lb\/sa\/frontend.*allowedPeers/ })
  t.match(await call(s.port, pem(clientB)), { status: 200 })
  t.equal(s.app.requests.length, 1)
})

t.test('a trust change ends an open keep-alive connection of a client it no longer verifies', async (t) => {
  const s = await start(t, 'REJECT_INVALID')
  const agent = new https.Agent({ keepAlive: true, maxSockets: 1, cert: clientB.chainPem(), key: clientB.privateKeyPem(), rejectUnauthorized: false })
  t.teardown(() => { agent.destroy() })
  const get = async (): Promise<{ status: number, socketClosed: Promise<void> }> => await new Promise((resolve, reject) => {
    const req = https.get({ host: '127.0.0.1', port: s.port, path: '/', agent }, (res) => {
      res.resume()
      const socketClosed = new Promise<void>((resolve) => { req.socket?.once('close', () => { resolve() }) })
      res.once('end', () => { resolve({ status: res.statusCode ?? 0, socketClosed }) })
    })
    req.on('error', reject)
  })
  const first = await get()
  t.equal(first.status, 200)
  s.snapshots.publish({ bundles: [a.bundle] }) // b.test removed
  await first.socketClosed
  t.match(s.events.at(-1), { outcome: 'ended', verdict: { code: 'ERR_SPIFFE_VERIFY_NO_BUNDLE' } })
  await t.rejects(get(), 'the next connection is refused')
  t.equal(s.app.requests.length, 1)
})

/** Opens a keep-alive connection as `client`, makes one request; resolves with its status and a promise of the socket's close. */
async function keepAlive (t: { teardown: (fn: () => void) => void }, port: number, client: ClientCert): Promise<{ status: number, closed: Promise<void>, peerCert: string }> {
  const agent = new https.Agent({ keepAlive: true, maxSockets: 1, cert: client.cert, key: client.key, rejectUnauthorized: false })
  t.teardown(() => { agent.destroy() })
  return await new Promise((resolve, reject) => {
    const req = https.get({ host: '127.0.0.1', port, path: '/', agent }, (res) => {
      res.resume()
      const socket = req.socket as import('node:tls').TLSSocket
      const peerCert = socket.getPeerX509Certificate()?.subjectAltName ?? ''
      res.once('end', () => { resolve({ status: res.statusCode ?? 0, peerCert, closed: new Promise<void>((resolve) => { socket.once('close', () => { resolve() }) }) }) })
    })
    req.on('error', reject)
  })
}

t.test('a client SVID that expires ends its open connection', async (t) => {
  const clock = new ManualClock(Date.now())
  const s = await start(t, 'REJECT_INVALID', undefined, clock)
  const short = await makeSvid(a, '/ns/lb/sa/short', { notBefore: Date.now() - 60_000, lifetimeMs: 120_000 })
  const open = await keepAlive(t, s.port, pem(short))
  t.equal(open.status, 200)
  clock.advance(120_000)
  await open.closed
  t.match(s.events.at(-1), { outcome: 'ended', verdict: { code: 'ERR_SPIFFE_SVID_EXPIRED' } })
})

t.test('a newly revoked client certificate (a CRL of its domain) ends its open connection', async (t) => {
  const s = await start(t, 'REJECT_INVALID')
  const victim = await makeSvid(b, '/ns/lb/sa/revoked')
  const open = await keepAlive(t, s.port, pem(victim))
  t.equal(open.status, 200)
  const leaf = new X509Certificate(victim.chainPem())
  const crl = { issuerFingerprint: b.ca.cert.fingerprint256, revokedSerials: new Set([normalizeSerial(leaf.serialNumber)]), thisUpdate: Date.now() - 1000, nextUpdate: Date.now() + 3_600_000, source: 'test crl' }
  s.snapshots.publish({ revocation: new Map([['b.test', { lists: [crl] }]]) })
  await open.closed
  t.match(s.events.at(-1), { outcome: 'ended', verdict: { code: 'ERR_SPIFFE_VERIFY_REVOKED', spiffeId: 'spiffe://b.test/ns/lb/sa/revoked' } })
  t.match(await call(s.port, pem(victim)), { error: String }, 'a new connection is refused too')
  t.match(await call(s.port, pem(clientB)), { status: 200 }, 'the domain\'s other clients still get in')
})

t.test('HTTP/2: a trust change ends the session and its streams', async (t) => {
  const http2 = await import('node:http2')
  const s = await start(t, 'REJECT_INVALID')
  const session = http2.connect(`https://127.0.0.1:${s.port}`, { cert: clientB.chainPem(), key: clientB.privateKeyPem(), rejectUnauthorized: false })
  session.on('error', () => {})
  t.teardown(() => { session.destroy() })
  const get = async (): Promise<number> => await new Promise((resolve, reject) => {
    const req = session.request({ ':path': '/h2' })
    req.on('response', (h) => { req.resume(); req.on('end', () => { resolve(Number(h[':status'])) }) })
    req.on('error', reject)
    req.end()
  })
  t.equal(await get(), 200)
  const closed = once(session, 'close')
  s.snapshots.publish({ bundles: [a.bundle] })
  await closed
  t.match(s.events.at(-1), { outcome: 'ended', verdict: { code: 'ERR_SPIFFE_VERIFY_NO_BUNDLE' } })
  t.equal(s.app.requests.length, 1)
})

t.test('a rotated server SVID is presented on the next handshake; open connections are kept', async (t) => {
  const s = await start(t, 'REJECT_INVALID')
  const first = await keepAlive(t, s.port, pem(clientA))
  t.match(first.peerCert, 'spiffe://a.test/ns/app/sa/api')
  s.snapshots.publish({ svid: await makeSvid(a, '/ns/app/sa/rotated') })
  const second = await keepAlive(t, s.port, pem(clientA))
  t.match(second.peerCert, 'spiffe://a.test/ns/app/sa/rotated')
  t.equal(s.events.filter((e) => e.outcome === 'refused' || e.outcome === 'ended').length, 0, 'no handshake failed, nothing ended')
  t.equal(s.app.requests.length, 2)
})

t.test('WebSocket through the inbound listener: the upgrade carries the verdict headers, spoofed ones removed', async (t) => {
  const { WebSocketServer, WebSocket } = await import('ws')
  const s = await start(t, 'REJECT_INVALID')
  // The counting app's server also speaks WebSocket: an echo that first tells what it was told.
  const appServer = (await import('node:http')).createServer()
  const wss = new WebSocketServer({ server: appServer })
  wss.on('connection', (ws, req) => {
    ws.send(`spiffe=${String(req.headers['x-client-cert-spiffe'])} other=${String(req.headers['x-client-cert-other'])}`)
    ws.on('message', (m: Buffer) => { ws.send(`echo ${m.toString()}`) })
  })
  await new Promise<void>((resolve) => { appServer.listen(0, '127.0.0.1', resolve) })
  t.teardown(async () => { wss.close(); appServer.closeAllConnections(); await new Promise((resolve) => { appServer.close(resolve) }) })
  const port = (appServer.address() as AddressInfo).port
  // A second proxy in front of the WebSocket app, same verifier shape.
  const verifier = createClientVerifier({ snapshots: s.snapshots })
  const proxy = createProxy({
    frontend: { host: '127.0.0.1', port: 0, inbound: { verifier, mode: 'REJECT_INVALID', clock: systemClock } },
    services: [{ name: 'ws', endpoints: [{ host: '127.0.0.1', port }], policy: 'ROUND_ROBIN', timeoutMs: 5000, protocol: 'HTTP', connectionPool: { maxRequestsPerConnection: 0, keepAlive: true }, connect: plainConnector(), customRequestHeaders: HEADERS }],
    urlMap: { defaultService: 'ws' }
  })
  const { port: proxyPort } = await proxy.listen()
  t.teardown(async () => { await proxy.close(0) })
  const ws = new WebSocket(`wss://127.0.0.1:${proxyPort}/ws`, { cert: clientA.chainPem(), key: clientA.privateKeyPem(), rejectUnauthorized: false, headers: SPOOF })
  const messages: string[] = []
  await new Promise<void>((resolve, reject) => {
    ws.on('message', (m: Buffer) => { messages.push(m.toString()); if (messages.length === 1) ws.send('ping'); else { ws.close(); resolve() } })
    ws.on('error', reject)
  })
  t.same(messages, ['spiffe=spiffe://a.test/ns/lb/sa/frontend other=undefined', 'echo ping'])
  const refused = new WebSocket(`wss://127.0.0.1:${proxyPort}/ws`, { rejectUnauthorized: false })
  await new Promise<void>((resolve) => { refused.on('error', () => { resolve() }); refused.on('open', () => { t.fail('opened without a certificate'); resolve() }) })
  t.pass('no certificate: no WebSocket')
})
