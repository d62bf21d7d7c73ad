import { once } from 'node:events'
import type { AddressInfo } from 'node:net'
import tls from 'node:tls'
import t from 'tap'
import { issueCertificate } from '../pki/index.ts'
import { SpiffeIdPattern } from '../spiffe/id-pattern.ts'
import { TestSnapshots, makeDomain, makeSvid } from '../../test/tls-fixtures.ts'
import { createClientVerifier, type ClientVerdict, type ClientVerifierOptions } from './client-verifier.ts'

const a = await makeDomain('a.test')
const serverSvid = await makeSvid(a, '/server')

/** A TLS server judging each client with a verifier; resolves each call with the verdict and the server's certificate. */
async function listen (t: { teardown: (fn: () => void) => void }, opts: Partial<ClientVerifierOptions> = {}) {
  const verifier = createClientVerifier({ snapshots: new TestSnapshots(serverSvid, [a.bundle]), ...opts })
  const verdicts: ClientVerdict[] = []
  const server = tls.createServer(verifier.serverOptions(), (socket) => { verdicts.push(verifier.verify(socket, 'test')); socket.end('bye') })
  const detach = verifier.attach(server)
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.teardown(() => { detach(); server.close() })
  const port = (server.address() as AddressInfo).port
  const call = async (client?: { cert: string, key: string }): Promise<{ verdict: ClientVerdict | undefined, serverSan: string }> => {
    const socket = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false, ...(client ?? {}) })
    socket.on('error', () => {})
    socket.resume()
    await once(socket, 'secureConnect')
    const serverSan = socket.getPeerX509Certificate()?.subjectAltName ?? ''
    await once(socket, 'close')
    return { verdict: verdicts.at(-1), serverSan }
  }
  return { verifier, call }
}

t.test('the facts of a verified client, its SANs apart from its SPIFFE ID, and allowedPeers', async (t) => {
  const s = await listen(t, { allowedPeers: [SpiffeIdPattern.parse('spiffe://a.test/ns/*/sa/web')] })
  const issued = await issueCertificate(a.ca, { uris: ['spiffe://a.test/ns/x/sa/other'], dnsNames: ['other.a.test'], notBefore: Date.now() - 60_000 })
  const { verdict } = await s.call({ cert: issued.chainPem, key: issued.keyPem })
  t.match(verdict, { present: true, verified: true, allowed: false, code: 'ERR_SPIFFE_TLS_PEER_NOT_ALLOWED', spiffeId: 'spiffe://a.test/ns/x/sa/other', trustDomain: 'a.test', uriSans: [], dnsNames: ['other.a.test'], error: '' })
  const web = await makeSvid(a, '/ns/prod/sa/web')
  t.match((await s.call({ cert: web.chainPem(), key: web.privateKeyPem() })).verdict, { verified: true, allowed: true, code: '', message: '' })
  const two = await issueCertificate(a.ca, { uris: ['spiffe://a.test/one', 'https://example.org/x'], notBefore: Date.now() - 60_000 })
  t.match((await s.call({ cert: two.chainPem, key: two.keyPem })).verdict, { verified: false, spiffeId: 'spiffe://a.test/one', uriSans: ['https://example.org/x'], error: 'client_cert_validation_failed', code: 'ERR_SPIFFE_SVID_MULTIPLE_URI_SANS' })
  t.match((await s.call()).verdict, { present: false, verified: false, error: 'client_cert_not_provided', code: 'ERR_SPIFFE_TLS_NO_PEER_CERTIFICATE', chain: [] })
})

t.test('a static certificate is replaced without a restart (reloaded files)', async (t) => {
  const first = await makeSvid(a, '/files/one')
  const s = await listen(t, { certificate: { cert: first.chainPem(), key: first.privateKeyPem() } })
  t.equal((await s.call()).serverSan, 'URI:spiffe://a.test/files/one', 'the file certificate, not the snapshot SVID')
  const next = await makeSvid(a, '/files/two')
  s.verifier.setCertificate({ cert: next.chainPem(), key: next.privateKeyPem() })
  t.equal((await s.call()).serverSan, 'URI:spiffe://a.test/files/two')
})
