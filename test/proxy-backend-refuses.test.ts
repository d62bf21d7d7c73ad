// A backend that refuses the proxy's own SVID: the 502 must say so, with the TLS alert the
// backend sent (OpenSSL, nginx, Go) or, from a backend that just closes (Node), what that means;
// never only undici's "other side closed".
import t from 'tap'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import tls from 'node:tls'
import { createBackendConnector } from '../src/tls/backend-connector.ts'
import { fetchText, startTestProxy, testService } from '../src/proxy/test-support.ts'
import { accepting, freePort } from './nginx-peer.ts'
import { TestSnapshots, makeDomain, makeSvid } from './tls-fixtures.ts'

const [a, b] = await Promise.all([makeDomain('a.test'), makeDomain('b.test')])
const lbSvid = await makeSvid(a, '/lb/frontend')
const backendSvid = await makeSvid(a, '/backend')
const dir = await mkdtemp(join(tmpdir(), 'spiffe-lb-refuses-'))
t.teardown(async () => { await rm(dir, { recursive: true, force: true }) })

// Both backends trust only b.test, so both refuse the proxy's a.test SVID.
const files = { cert: join(dir, 'c.pem'), key: join(dir, 'k.pem'), ca: join(dir, 'ca.pem') }
await writeFile(files.cert, backendSvid.chainPem())
await writeFile(files.key, backendSvid.privateKeyPem())
await writeFile(files.ca, b.bundle.toPem())
const opensslPort = await freePort()
const openssl = spawn('openssl', ['s_server', '-accept', `127.0.0.1:${opensslPort}`, '-cert', files.cert, '-key', files.key,
  '-CAfile', files.ca, '-Verify', '1', '-verify_return_error', '-www'], { stdio: 'ignore' })
t.teardown(() => { openssl.kill() })
const end = Date.now() + 20_000
while (!(await accepting(opensslPort))) {
  if (Date.now() > end) throw new Error('openssl s_server did not start')
  await new Promise((resolve) => setTimeout(resolve, 50))
}

const node = tls.createServer({ cert: backendSvid.chainPem(), key: backendSvid.privateKeyPem(), requestCert: true, rejectUnauthorized: true, ca: [b.bundle.toPem()] },
  (s) => { s.on('error', () => {}); s.end('HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n') })
node.on('tlsClientError', () => {})
node.listen(0, '127.0.0.1')
await once(node, 'listening')
t.teardown(() => { node.close() })

const connector = createBackendConnector({ snapshots: new TestSnapshots(lbSvid, [a.bundle]) })
t.teardown(() => { connector.close() })
const proxy = await startTestProxy(t, {
  connect: connector,
  services: [
    testService('openssl', [{ port: opensslPort }], { protocol: 'HTTPS' }),
    testService('node', [{ port: (node.address() as AddressInfo).port }], { protocol: 'HTTPS' })
  ],
  urlMap: { hostRules: [{ hosts: ['node.test'], pathMatcher: 'node' }], pathMatchers: [{ name: 'node', defaultService: 'node' }], defaultService: 'openssl' }
})

t.test('an alert from the backend is named in the 502', async (t) => {
  const res = await fetchText(proxy.port, '/x')
  t.equal(res.status, 502)
  t.match(res.body, /^backend 127\.0\.0\.1:\d+ refused the proxy's svid "spiffe:\/\/a\.test\/lb\/frontend": tls alert unknown ca \(ERR_SSL_TLSV1_ALERT_UNKNOWN_CA\).*\(ERR_SPIFFE_TLS_REFUSED_BY_PEER\)$/m)
  t.notMatch(res.body, /other side closed/)
})

t.test('a backend that closes right after the handshake is said to have refused the svid, probably', async (t) => {
  const res = await fetchText(proxy.port, '/x', { host: 'node.test' })
  t.equal(res.status, 502)
  t.match(res.body, /backend 127\.0\.0\.1:\d+ closed the connection after the tls handshake without a response: it most likely refused the proxy's svid "spiffe:\/\/a\.test\/lb\/frontend".*\(ERR_SPIFFE_TLS_REFUSED_BY_PEER\)$/m)
  t.notMatch(res.body, /other side closed/)
})
