// What the proxy does with each answer to an upgrade, and with the other ways to ask for a
// tunnel: a refused WebSocket upgrade is relayed as one ordinary response (status, headers,
// body re-framed) on the cleartext and the TLS frontend, then both connections close; a backend
// that drops the connection before answering gets the client a 502; `Upgrade: h2c` and
// `CONNECT` are refused without reaching a backend.
import t from 'tap'
import http2 from 'node:http2'
import net from 'node:net'
import tls from 'node:tls'
import { createRootCa, issueCertificate } from '../src/pki/index.ts'
import { eventually, startBackend, startTestProxy, testService } from '../src/proxy/test-support.ts'

const ca = await createRootCa({ subject: 'CN=upgrade test root', keyAlgorithm: 'ECDSA_P256' })
const leaf = await issueCertificate(ca, { subject: 'CN=localhost', dnsNames: ['localhost'], extKeyUsage: ['serverAuth'] })

// A Node server without an 'upgrade' listener answers an upgrade request as a plain request
// and keeps the connection open, as nginx does.
const refuser = await startBackend('refuser', (req, res) => {
  if (req.url === '/drop') { req.socket.destroy(); return }
  if (req.url === '/cut') { res.writeHead(403); res.write('part of it', () => { setImmediate(() => { req.socket.destroy() }) }); return }
  res.writeHead(403, { 'content-type': 'text/plain', 'x-why': 'no websocket here', connection: 'keep-alive, x-hop', 'x-hop': 'secret' })
  res.write('forbidden ')
  res.end(`${req.url ?? ''}\n`) // two writes, no length: Node sends it chunked
})
t.teardown(() => refuser.close())

const services = [testService('refuser', [refuser])]
const urlMap = { defaultService: 'refuser' }
const clear = await startTestProxy(t, { services, urlMap })
const secure = await startTestProxy(t, { services, urlMap, frontend: { host: '127.0.0.1', port: 0, tls: { cert: leaf.chainPem, key: leaf.keyPem } } })

const UPGRADE = (path: string, protocol = 'websocket'): string => `GET ${path} HTTP/1.1\r\nHost: app.test\r\nConnection: Upgrade\r\nUpgrade: ${protocol}\r\n` +
  'Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n'

/** Sends `text` on a fresh connection and returns all it received once the proxy closed it. */
async function exchange (open: () => net.Socket, text: string): Promise<string> {
  const socket = open()
  let received = ''
  socket.on('data', (d: Buffer) => { received += d.toString('latin1') })
  socket.on('error', () => {})
  socket.write(text)
  await new Promise<void>((resolve) => { socket.once('close', () => { resolve() }) })
  return received
}
const clearSocket = (): net.Socket => net.connect(clear.port, '127.0.0.1')
const tlsSocket = (): net.Socket => tls.connect({ port: secure.port, host: '127.0.0.1', servername: 'localhost', ca: ca.certPem, ALPNProtocols: ['http/1.1'] })

/** Returns the decoded body of a chunked HTTP/1.1 message body, or throws on a bad frame. */
function dechunk (body: string): string {
  let out = ''
  let rest = body
  for (;;) {
    const m = /^([0-9a-f]+)\r\n/i.exec(rest)
    if (m === null) throw new Error(`bad chunk at ${JSON.stringify(rest.slice(0, 20))}`)
    const size = parseInt(m[1] ?? '', 16)
    if (size === 0) { if (rest.slice(m[0].length) !== '\r\n') throw new Error('no final CRLF'); return out }
    out += rest.slice(m[0].length, m[0].length + size)
    rest = rest.slice(m[0].length + size + 2)
  }
}

for (const [name, open] of [['cleartext', clearSocket], ['tls', tlsSocket]] as const) {
  t.test(`${name}: a 403 to an upgrade is relayed with its headers and chunked body, then the connection closes`, async (t) => {
    const seen = refuser.seen.length
    const connections = refuser.connections()
    const text = await exchange(open, UPGRADE('/ws') + 'GET /second HTTP/1.1\r\nHost: app.test\r\n\r\n')
    const end = text.indexOf('\r\n\r\n')
    const head = text.slice(0, end)
    const body = text.slice(end + 4)
    t.match(head, /^HTTP\/1\.1 403 Forbidden\r\n/)
    t.match(head, /\r\nx-why: no websocket here/i, 'end-to-end headers are relayed')
    t.notMatch(head, /x-hop|keep-alive|upgrade:/i, 'hop-by-hop headers, and those Connection names, are not')
    t.match(head, /\r\ntransfer-encoding: chunked/i)
    t.match(head, /\r\nconnection: close/i)
    t.equal(dechunk(body), 'forbidden /ws\n', 'the body, re-chunked, then nothing else')
    t.equal(refuser.seen.length, seen + 1, 'the backend saw only the upgrade request')
    t.equal(refuser.connections(), connections + 1)
    await eventually(() => clear.log.requests().concat(secure.log.requests()).some((r) => r.status === 403 && r.path === '/ws'), 'the access-log line')
  })
}

t.test('a backend dropping the connection before it answers: 502 to the client', async (t) => {
  const text = await exchange(clearSocket, UPGRADE('/drop'))
  t.match(text, /^HTTP\/1\.1 502 Bad Gateway\r\n/)
  t.match(text, /failed before answering the upgrade/)
})

t.test('a refused answer cut by the backend reaches the client unterminated, logged as not completed', async (t) => {
  const text = await exchange(clearSocket, UPGRADE('/cut'))
  t.match(text, /^HTTP\/1\.1 403 Forbidden\r\n[^]*transfer-encoding: chunked\r\n[^]*\r\n\r\na\r\npart of it\r\n$/i, 'the chunk that came, and no last chunk')
  await eventually(() => clear.log.requests().some((r) => r.path === '/cut'), 'the access-log line')
  t.match(clear.log.requests().find((r) => r.path === '/cut'), { status: 403, completed: false, error: /before its answer to the upgrade ended|failed/ })
})

t.test('Upgrade: h2c is refused with 400 and never reaches a backend', async (t) => {
  const seen = refuser.seen.length
  const text = await exchange(clearSocket, 'GET / HTTP/1.1\r\nHost: app.test\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAoAAAAAIAAAAA\r\n\r\n')
  t.match(text, /^HTTP\/1\.1 400 Bad Request\r\n[^]*only websocket/)
  t.equal(refuser.seen.length, seen)
})

t.test('HTTP/1.1 CONNECT is closed without an answer from a backend', async (t) => {
  const seen = refuser.seen.length
  const connections = refuser.connections()
  const text = await exchange(clearSocket, `CONNECT 127.0.0.1:${refuser.port} HTTP/1.1\r\nHost: 127.0.0.1:${refuser.port}\r\n\r\nGET / HTTP/1.1\r\n\r\n`)
  t.notMatch(text, /^HTTP\/1\.1 200/)
  t.equal(refuser.seen.length, seen)
  t.equal(refuser.connections(), connections, 'no connection was opened to the backend')
})

t.test('HTTP/2 CONNECT is answered 405 without reaching a backend', async (t) => {
  const seen = refuser.seen.length
  const session = http2.connect(`http://127.0.0.1:${clear.port}`)
  t.teardown(() => { session.destroy() })
  const status = await new Promise<number>((resolve, reject) => {
    const stream = session.request({ ':method': 'CONNECT', ':authority': `127.0.0.1:${refuser.port}` })
    stream.on('response', (h) => { resolve(Number(h[':status'])) })
    stream.on('error', reject)
  })
  t.equal(status, 405)
  t.equal(refuser.seen.length, seen)
})
