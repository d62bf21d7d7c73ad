import { once } from 'node:events'
import tls from 'node:tls'
import t from 'tap'
import { makeDomain, makeSvid, startRawBackend } from '../../test/tls-fixtures.ts'
import { NODE_SESSION_PREFIX, withoutPeerCertificate } from './session-peer.ts'

const domain = await makeDomain('b.test')
const svid = await makeSvid(domain, '/backend')

/** Connects to `port`, offering `session`; returns the socket once the first session arrived (or the handshake ended, when resumed). */
async function connect (port: number, maxVersion: tls.SecureVersion, session?: Buffer): Promise<{ socket: tls.TLSSocket, session: Buffer | undefined }> {
  const socket = tls.connect({ host: '127.0.0.1', port, servername: 'backend.b.test', rejectUnauthorized: false, maxVersion })
  socket.on('error', () => {}) // the backend may reset after our end
  // setSession is documented API that @types/node does not declare.
  if (session !== undefined) (socket as tls.TLSSocket & { setSession: (s: Buffer) => void }).setSession(session)
  let got: Buffer | undefined
  socket.once('session', (s: Buffer) => { got = s })
  await once(socket, 'secureConnect')
  socket.write('ping')
  await once(socket, 'data') // tickets come before the answer
  socket.end()
  return { socket, session: got }
}

for (const version of ['TLSv1.3', 'TLSv1.2'] as const) {
  t.test(`${version}: the session without the backend's certificate still resumes`, async (t) => {
    const backend = await startRawBackend(svid.chainPem(), svid.privateKeyPem(), { maxVersion: version })
    t.teardown(() => backend.close())
    const first = await connect(backend.port, version)
    const session = first.session
    if (session === undefined) { t.fail('no session from the backend'); return }
    // Node's own wrapper: when a Node upgrade changes it, the certificate stays in (see the module comment).
    t.ok(session.subarray(0, NODE_SESSION_PREFIX.length).equals(NODE_SESSION_PREFIX), 'node wraps the session as session-peer.ts expects')
    const leafLength = svid.leaf.raw.length
    const stripped = withoutPeerCertificate(session)
    t.ok(session.length - stripped.length >= leafLength, `the certificate (${leafLength} bytes) is gone: ${session.length} → ${stripped.length} bytes`)
    t.notOk(stripped.includes(svid.leaf.raw), 'no copy of the certificate is left')
    t.same(withoutPeerCertificate(stripped), stripped, 'stripping twice changes nothing more')
    const second = await connect(backend.port, version, stripped)
    t.equal(second.socket.isSessionReused(), true, 'the backend resumed it')
    t.equal(backend.resumed(), 1)
  })
}

t.test('what is not a session it knows comes back unchanged', async (t) => {
  const sequence = Buffer.from([0x30, 0x03, 0x02, 0x01, 0x01])
  const wrapped = Buffer.concat([NODE_SESSION_PREFIX, Buffer.from([0x00, 0x01]), Buffer.from('x'), sequence])
  const cases: Array<[string, Buffer]> = [
    ['empty', Buffer.alloc(0)],
    ['not der', Buffer.from('not a session')],
    ['a truncated sequence', Buffer.from([0x30, 0x10, 0x02, 0x01])],
    ['an integer, not a sequence', Buffer.from([0x02, 0x01, 0x05])],
    ['a sequence without a peer field', sequence],
    ['the wrapper alone', wrapped.subarray(0, NODE_SESSION_PREFIX.length + 3)],
    ['a wrapped sequence without a peer field', wrapped],
    ['trailing bytes after the sequence', Buffer.concat([sequence, Buffer.from([0x00])])]
  ]
  for (const [name, input] of cases) t.equal(withoutPeerCertificate(input), input, name)
})

t.test('a long peer field is dropped and the sequence length re-encoded', async (t) => {
  const field = (tag: number, body: Buffer): Buffer => Buffer.concat([Buffer.from(body.length < 256 ? [tag, 0x81, body.length] : [tag, 0x82, body.length >> 8, body.length & 0xff]), body])
  const version = Buffer.from([0x02, 0x01, 0x01])
  const peer = field(0xa3, Buffer.alloc(300, 7))
  const rest = field(0xa4, Buffer.alloc(200, 9))
  const body = Buffer.concat([version, peer, rest])
  const session = field(0x30, body)
  const want = Buffer.concat([Buffer.from([0x30, 0x81, version.length + rest.length]), version, rest])
  t.same(withoutPeerCertificate(session), want)
})
