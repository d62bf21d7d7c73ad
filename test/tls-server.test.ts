import { once } from 'node:events'
import type { AddressInfo } from 'node:net'
import tls from 'node:tls'
import t from 'tap'
import { createSubordinateCa, issueSvidCertificate } from '../src/pki/index.ts'
import { BundleSet } from '../src/spiffe/bundle-set.ts'
import { SpiffeId } from '../src/spiffe/spiffe-id.ts'
import { X509Svid } from '../src/spiffe/x509-svid.ts'
import { TLS_ERROR } from '../src/tls/errors.ts'
import { peerIdentity } from '../src/tls/peer-identity.ts'
import { createSpiffeTlsServer } from '../src/tls/server-options.ts'
import type { RejectEvent, SpiffeTlsServerOptions } from '../src/tls/server-options.ts'
import { TestSnapshots, makeDomain, makeSvid } from './tls-fixtures.ts'

const [a, b, c] = await Promise.all([makeDomain('a.test'), makeDomain('b.test'), makeDomain('c.test')])
const backendSvid = await makeSvid(a, '/backend')
const clientA = await makeSvid(a, '/client')
const clientB = await makeSvid(b, '/client')
const clientC = await makeSvid(c, '/client')

interface Started { server: tls.Server, port: number, snapshots: TestSnapshots, rejects: RejectEvent[], accepted: string[] }

async function start (opts: Partial<SpiffeTlsServerOptions> = {}): Promise<Started> {
  const snapshots = new TestSnapshots(backendSvid, [a.bundle, b.bundle])
  const rejects: RejectEvent[] = []
  const accepted: string[] = []
  const server = createSpiffeTlsServer({
    snapshots,
    onReject: (e) => rejects.push(e),
    onConnection: (socket, peer) => {
      accepted.push(`${peer.id.toString()}${peer.resumed ? ' resumed' : ''}`)
      t.equal(peerIdentity(socket)?.toString(), peer.id.toString())
      socket.end(`hello ${peer.id.toString()}`)
    },
    ...opts
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.teardown(() => { server.close() })
  return { server, port: (server.address() as AddressInfo).port, snapshots, rejects, accepted }
}

interface Outcome { greeting: string, resumed: boolean, session: Buffer | undefined }

/** Connects as `svid` (or without a certificate) and returns what the server said before closing. */
async function hello (port: number, svid: X509Svid | undefined, session?: Buffer, maxVersion: tls.SecureVersion = 'TLSv1.3'): Promise<Outcome> {
  const socket = tls.connect({
    host: '127.0.0.1', port, ca: [], rejectUnauthorized: false, maxVersion,
    ...(svid === undefined ? {} : { cert: svid.chainPem(), key: svid.privateKeyPem() }),
    ...(session === undefined ? {} : { session })
  })
  let latest: Buffer | undefined
  socket.on('session', (s: Buffer) => { latest = s })
  socket.on('error', () => {})
  let greeting = ''
  socket.on('data', (d: Buffer) => { greeting += d.toString() })
  await once(socket, 'secureConnect')
  const resumed = socket.isSessionReused()
  await once(socket, 'close')
  return { greeting, resumed, session: latest ?? session }
}

t.test('accepts clients of every trusted domain and refuses the others, saying why', async (t) => {
  const s = await start()
  t.equal((await hello(s.port, clientA)).greeting, 'hello spiffe://a.test/client')
  t.equal((await hello(s.port, clientB)).greeting, 'hello spiffe://b.test/client')
  t.equal((await hello(s.port, clientC)).greeting, '', 'untrusted domain gets nothing')
  t.equal((await hello(s.port, undefined)).greeting, '', 'no certificate gets nothing')
  const forged = await issueSvidCertificate(b.ca, { uri: 'spiffe://a.test/forged', lifetimeMs: 3_600_000 })
  t.equal((await hello(s.port, X509Svid.fromPem(forged.chainPem, forged.keyPem))).greeting, '', 'domain B cannot vouch for A')
  t.match(s.rejects, [
    { code: TLS_ERROR.PEER_REJECTED, reason: 'ERR_SPIFFE_VERIFY_NO_BUNDLE', message: /c\.test/ },
    { code: TLS_ERROR.NO_PEER_CERTIFICATE },
    { code: TLS_ERROR.PEER_REJECTED, reason: 'ERR_SPIFFE_VERIFY_NO_PATH' }
  ])
  t.same(s.accepted, ['spiffe://a.test/client', 'spiffe://b.test/client'])
})

t.test('allow-lists: ids and trust domains (a union)', async (t) => {
  const byId = await start({ allowIds: [SpiffeId.fromString('spiffe://b.test/client')] })
  t.equal((await hello(byId.port, clientA)).greeting, '')
  t.equal((await hello(byId.port, clientB)).greeting, 'hello spiffe://b.test/client')
  t.match(byId.rejects, [{ code: TLS_ERROR.PEER_NOT_ALLOWED, message: /spiffe:\/\/a\.test\/client/ }])
  const byDomain = await start({ allowTrustDomains: [a.td] })
  t.equal((await hello(byDomain.port, clientA)).greeting, 'hello spiffe://a.test/client')
  t.equal((await hello(byDomain.port, clientB)).greeting, '')
  t.equal(byDomain.rejects[0]?.code, TLS_ERROR.PEER_NOT_ALLOWED)
})

for (const version of ['TLSv1.3', 'TLSv1.2'] as const) {
  t.test(`${version}: a resumed client with an intermediate CA is re-verified from memory`, async (t) => {
    const sub = await createSubordinateCa(a.ca, { subject: 'CN=a.test intermediate', keyAlgorithm: 'ECDSA_P256' })
    const issued = await issueSvidCertificate(sub, { uri: 'spiffe://a.test/deep', lifetimeMs: 3_600_000 })
    const deep = X509Svid.fromPem(issued.chainPem, issued.keyPem)
    t.equal(deep.chain.length, 2)
    const s = await start()
    const first = await hello(s.port, deep, undefined, version)
    const second = await hello(s.port, deep, first.session, version)
    t.equal(second.resumed, true)
    t.equal(second.greeting, 'hello spiffe://a.test/deep')
    t.same(s.accepted, ['spiffe://a.test/deep', 'spiffe://a.test/deep resumed'])
  })
}

t.test('a trust change rotates the ticket keys; a removed domain cannot resume', async (t) => {
  const s = await start()
  const keys0 = s.server.getTicketKeys()
  const first = await hello(s.port, clientB)
  t.equal((await hello(s.port, clientB, first.session)).resumed, true, 'resumes while trust is unchanged')
  s.snapshots.publish({ svid: await makeSvid(a, '/backend') })
  t.same(s.server.getTicketKeys(), keys0, 'an SVID rotation keeps the ticket keys')
  s.snapshots.publish({ bundles: [a.bundle] })
  t.notSame(s.server.getTicketKeys(), keys0, 'a bundle change rotates them')
  const after = await hello(s.port, clientB, first.session)
  t.equal(after.resumed, false, 'the old ticket is useless')
  t.equal(after.greeting, '')
  t.match(s.rejects.at(-1), { code: TLS_ERROR.PEER_REJECTED, reason: 'ERR_SPIFFE_VERIFY_NO_BUNDLE' })
})

t.test('a resumed session is re-verified even when the ticket keys did not change', async (t) => {
  // Same ticket keys, but a trust change applied without going through the subscription
  // (e.g. a source that publishes without notifying): the resumed client must still be checked.
  const s = await start()
  const first = await hello(s.port, clientB)
  const current = s.snapshots.current()
  if (current === undefined) throw new Error('no snapshot')
  const only = await makeDomain('a.test')
  const frozen = { ...current, bundles: BundleSet.of([only.bundle]) }
  s.snapshots.current = () => frozen
  const again = await hello(s.port, clientB, first.session)
  t.equal(again.resumed, true)
  t.equal(again.greeting, '', 'refused despite resumption')
  t.match(s.rejects.at(-1), { code: TLS_ERROR.PEER_REJECTED, resumed: true })
})

t.test('an SVID rotation installs the new server certificate', async (t) => {
  const s = await start()
  const rotated = await makeSvid(a, '/backend-v2')
  s.snapshots.publish({ svid: rotated })
  const socket = tls.connect({ host: '127.0.0.1', port: s.port, ca: [], rejectUnauthorized: false, cert: clientA.chainPem(), key: clientA.privateKeyPem() })
  socket.on('data', () => {})
  await once(socket, 'secureConnect')
  t.equal(socket.getPeerX509Certificate()?.fingerprint256, rotated.leaf.fingerprint256)
  socket.destroy()
})
