// A WebSocket upgrade the backend refuses must not turn the client connection into a raw
// tunnel. nginx answers `Upgrade: websocket` on a plain location with 200 and keeps the
// connection open; the proxy relays that answer as a normal response and closes both
// connections, so a second request on the same client connection never reaches nginx
// unrouted, with the client's own X-Forwarded-For and a `%2F` path the proxy refuses.
import t, { type Test } from 'tap'
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { readFile, writeFile } from 'node:fs/promises'
import net from 'node:net'
import { join } from 'node:path'
import { createBackendConnector } from '../src/tls/backend-connector.ts'
import { eventually, fetchText, startTestProxy, testService } from '../src/proxy/test-support.ts'
import { NGINX, freePort, nginxConf } from './nginx-peer.ts'
import { TestSnapshots, makeDomain, makeSvid, tempDir } from './tls-fixtures.ts'

const a = await makeDomain('a.test')
const dir = await tempDir(t)

/**
 * Starts nginx as an mTLS HTTP/1.1 backend whose every location answers 200 (keep-alive, also to
 * an upgrade request); each request is logged as `$request_uri|$http_x_forwarded_for`.
 */
async function startNginx (t: Test): Promise<{ port: number, lines: () => Promise<string[]> } | undefined> {
  if (!existsSync(NGINX)) {
    t.fail(`${NGINX} is not installed: install nginx (CI installs nginx-light) to run this test`)
    return undefined
  }
  const svid = await makeSvid(a, '/backend/nginx')
  const cert = join(dir, 'nginx-chain.pem')
  const key = join(dir, 'nginx-key.pem')
  const root = join(dir, 'root.pem')
  await writeFile(cert, svid.chainPem())
  await writeFile(key, svid.privateKeyPem(), { mode: 0o600 })
  await writeFile(root, a.bundle.toPem())
  const port = await freePort()
  const conf = join(dir, 'nginx.conf')
  const errorLog = join(dir, 'nginx-error.log')
  const accessLog = join(dir, 'access.log')
  await writeFile(conf, nginxConf(dir, 'nginx', `  log_format seen '$request_uri|$http_x_forwarded_for';
  access_log ${accessLog} seen;
  server {
    listen 127.0.0.1:${port} ssl;
    ssl_certificate ${cert};
    ssl_certificate_key ${key};
    ssl_client_certificate ${root};
    ssl_verify_client on;
    keepalive_timeout 60s;
    location / { return 200 "nginx saw $request_uri xff=$http_x_forwarded_for\\n"; }
  }`))
  let output = ''
  let exited = false
  const proc = spawn(NGINX, ['-c', conf, '-p', dir, '-e', errorLog], { stdio: ['ignore', 'pipe', 'pipe'] })
  proc.stdout.on('data', (d: Buffer) => { output += d.toString() })
  proc.stderr.on('data', (d: Buffer) => { output += d.toString() })
  proc.on('exit', () => { exited = true })
  t.teardown(async () => {
    if (exited) return
    const gone = new Promise<void>((resolve) => { proc.once('exit', () => { resolve() }) })
    proc.kill('SIGTERM')
    await gone
  })
  const canConnect = async (): Promise<boolean> => await new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1')
    s.once('connect', () => { s.destroy(); resolve(true) })
    s.once('error', () => { resolve(false) })
  })
  await eventually(async () => exited || await canConnect(), 'nginx to listen', 15_000)
  if (exited) throw new Error(`nginx exited: ${output}\n${await readFile(errorLog, 'utf8').catch(() => '')}`)
  const lines = async (): Promise<string[]> => (await readFile(accessLog, 'utf8').catch(() => '')).split('\n').filter((l) => l !== '')
  return { port, lines }
}

const nginx = await startNginx(t)
const connect = createBackendConnector({ snapshots: new TestSnapshots(await makeSvid(a, '/lb'), [a.bundle]) })
t.teardown(() => { connect.close() })
const { port, log } = nginx === undefined
  ? { port: 0, log: undefined }
  : await startTestProxy(t, { connect, services: [testService('nginx', [{ port: nginx.port }], { protocol: 'HTTPS' })], urlMap: { defaultService: 'nginx' } })

const UPGRADE = 'GET /chat HTTP/1.1\r\nHost: app.test\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n' +
  'Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n'
const SMUGGLED = 'GET /internal/admin%2f..%2fsecret HTTP/1.1\r\nHost: app.test\r\nX-Forwarded-For: 10.9.9.9\r\n\r\n'

/** A raw client connection: everything it received so far, and whether the proxy closed it. */
function rawClient (): { socket: net.Socket, received: () => string, closed: Promise<void> } {
  const socket = net.connect(port, '127.0.0.1')
  let text = ''
  socket.on('data', (d: Buffer) => { text += d.toString('latin1') })
  socket.on('error', () => {})
  const closed = new Promise<void>((resolve) => { socket.once('close', () => { resolve() }) })
  return { socket, received: () => text, closed }
}

/** Waits until `c` was closed, or received a second response, or 3 s of quiet passed. */
async function settle (c: ReturnType<typeof rawClient>): Promise<void> {
  const responses = (): number => c.received().split(/^HTTP\/1\.1 \d{3}/m).length - 1
  await Promise.race([c.closed, eventually(() => responses() >= 2, 'a second response', 3000).catch(() => {})])
}

t.test('a 200 answer to an upgrade is relayed as a response; the next request never reaches nginx raw', async (t) => {
  if (nginx === undefined || log === undefined) return
  const before = (await nginx.lines()).length
  const c = rawClient()
  c.socket.write(UPGRADE)
  await eventually(() => /\r\n\r\n[^]*\n/.test(c.received()) || c.socket.destroyed, 'the answer to the upgrade')
  const answer = c.received()
  t.match(answer, /^HTTP\/1\.1 200 OK\r\n/, 'nginx\'s status is relayed')
  t.match(answer, /\r\n\r\nnginx saw \/chat xff=127\.0\.0\.1\n$/, 'the body arrives whole')
  t.match(answer, /\r\nconnection: close\r\n/i, 'the client is told the connection closes')
  t.notMatch(answer, /\r\nupgrade:/i, 'no upgrade header reaches the client')
  if (!c.socket.destroyed) c.socket.write(SMUGGLED)
  await settle(c)
  t.notMatch(c.received(), /nginx saw \/internal/, 'the second request got no answer from nginx')
  const lines = (await nginx.lines()).slice(before)
  t.same(lines, ['/chat|127.0.0.1'], 'nginx saw only the routed upgrade request, with the proxy\'s X-Forwarded-For')
  await eventually(() => log.requests().some((r) => r.path === '/chat'), 'the access-log line')
  t.match(log.requests().find((r) => r.path === '/chat'), { status: 200, service: 'nginx', backendProtocol: 'HTTP/1.1' })
  await c.closed
  t.pass('the proxy closed the client connection')
})

t.test('a request sent right behind the upgrade request (same write) is never forwarded', async (t) => {
  if (nginx === undefined) return
  const before = (await nginx.lines()).length
  const c = rawClient()
  c.socket.write(UPGRADE + SMUGGLED)
  await settle(c)
  t.match(c.received(), /^HTTP\/1\.1 200 OK\r\n/)
  t.notMatch(c.received(), /nginx saw \/internal/)
  await c.closed
  t.same((await nginx.lines()).slice(before), ['/chat|127.0.0.1'], 'the bytes behind the upgrade request were not sent to nginx')
})

t.test('ordinary requests to the same backend still work', async (t) => {
  if (nginx === undefined) return
  const res = await fetchText(port, '/plain', { headers: { 'x-forwarded-for': '10.9.9.9' } })
  t.equal(res.status, 200)
  t.equal(res.body, 'nginx saw /plain xff=10.9.9.9, 127.0.0.1\n')
  const refused = await fetchText(port, '/internal/admin%2f..%2fsecret')
  t.equal(refused.status, 400, 'the %2F rule still refuses the path')
})
