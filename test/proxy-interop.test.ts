// The proxy with the real SPIFFE connector in front of peers it did not write: `openssl s_server`
// (requiring a client certificate) and nginx (`ssl_verify_client on`). Both must verify the
// proxy's client X.509-SVID with plain X.509 path validation, and the proxy must verify theirs
// per trust domain.
import t, { type Test } from 'tap'
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import { readFile, writeFile } from 'node:fs/promises'
import net from 'node:net'
import { join } from 'node:path'
import { createBackendConnector } from '../src/tls/backend-connector.ts'
import { fetchText, startTestProxy, testService } from '../src/proxy/test-support.ts'
import type { X509Svid } from '../src/spiffe/x509-svid.ts'
import { NGINX, freePort, nginxConf } from './nginx-peer.ts'
import { TestSnapshots, makeDomain, makeSvid, tempDir } from './tls-fixtures.ts'

const [a, b, evil] = await Promise.all([makeDomain('a.test'), makeDomain('b.test'), makeDomain('evil.test')])
const lbSvid = await makeSvid(a, '/lb/frontend')
const dir = await tempDir(t)
const proxyRoot = join(dir, 'proxy-td-root.pem')
await writeFile(proxyRoot, a.bundle.toPem())


/** Writes `svid`'s chain and key as `<name>-chain.pem` / `<name>-key.pem`. */
async function writeSvid (name: string, svid: X509Svid): Promise<{ cert: string, key: string }> {
  const cert = join(dir, `${name}-chain.pem`)
  const key = join(dir, `${name}-key.pem`)
  await writeFile(cert, svid.chainPem())
  await writeFile(key, svid.privateKeyPem(), { mode: 0o600 })
  return { cert, key }
}

/** Spawns `cmd`, kills it at teardown, and keeps its output for failure messages. */
function child (cmd: string, args: string[]): { proc: ChildProcess, output: () => string, exited: () => boolean } {
  let output = ''
  let exited = false
  const proc = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] })
  proc.stdout?.on('data', (d: Buffer) => { output += d.toString() })
  proc.stderr?.on('data', (d: Buffer) => { output += d.toString() })
  proc.on('error', (err) => { output += `\nspawn error: ${err.message}`; exited = true })
  proc.on('exit', () => { exited = true })
  t.teardown(async () => {
    if (exited) return
    const gone = new Promise<void>((resolve) => { proc.once('exit', () => { resolve() }) })
    proc.kill('SIGTERM')
    await gone
  })
  return { proc, output: () => output, exited: () => exited }
}

async function waitFor (what: () => boolean | Promise<boolean>, label: string, describe: () => string, ms = 15_000): Promise<void> {
  const end = Date.now() + ms
  while (!(await what())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${label}; output:\n${describe()}`)
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
}

async function canConnect (port: number): Promise<boolean> {
  return await new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1')
    s.once('connect', () => { s.destroy(); resolve(true) })
    s.once('error', () => { resolve(false) })
  })
}

/** Starts `openssl s_server -www` presenting `svid`, requiring a client cert from the proxy's domain. */
async function sServer (name: string, svid: X509Svid): Promise<number> {
  const { cert, key } = await writeSvid(name, svid)
  const port = await freePort()
  const server = child('openssl', ['s_server', '-accept', `127.0.0.1:${port}`, '-cert', cert, '-key', key,
    '-CAfile', proxyRoot, '-Verify', '1', '-www'])
  await waitFor(() => server.exited() || server.output().includes('ACCEPT'), `s_server ${name} to print ACCEPT`, server.output)
  if (server.exited()) throw new Error(`s_server ${name} exited: ${server.output()}`)
  return port
}

const connector = createBackendConnector({ snapshots: new TestSnapshots(lbSvid, [a.bundle, b.bundle]) })
t.teardown(() => { connector.close() })

async function proxyTo (port: number): Promise<number> {
  const started = await startTestProxy(t, {
    connect: connector,
    services: [testService('peer', [{ port }], { protocol: 'HTTPS' })],
    urlMap: { defaultService: 'peer' }
  })
  return started.port
}

t.test('openssl s_server with a trusted-domain SVID: 200 and the -www status page', async (t) => {
  const port = await proxyTo(await sServer('backend', await makeSvid(b, '/backend/openssl')))
  const res = await fetchText(port, '/')
  t.equal(res.status, 200, res.status === 200 ? 'status 200' : res.body)
  t.match(res.body, /Ciphers supported in s_server binary/, 's_server -www status page')
  t.match(res.body, /Verify return code: 0 \(ok\)/, 's_server verified the proxy\'s client certificate')
  t.match(res.body, /URI:spiffe:\/\/a\.test\/lb\/frontend/, 'the client certificate is the proxy\'s SVID')
})

t.test('openssl s_server with an SVID of an untrusted domain: 502 naming ERR_SPIFFE_VERIFY_NO_BUNDLE', async (t) => {
  const port = await proxyTo(await sServer('untrusted', await makeSvid(evil, '/backend/openssl')))
  const res = await fetchText(port, '/')
  t.equal(res.status, 502)
  t.match(res.body.replace(/\n$/, ''), /^backend 127\.0\.0\.1:\d+ rejected: .*evil\.test.* \(ERR_SPIFFE_VERIFY_NO_BUNDLE\)$/)
})

/**
 * Starts nginx as an mTLS backend (`ssl_verify_client on` against the proxy's trust domain)
 * presenting an SVID of `a.test`; with `h2` it offers HTTP/2 by ALPN (`listen … ssl http2`,
 * the nginx 1.22 spelling; `http2 on;` from 1.25.1). Each request is logged as
 * `$server_protocol $ssl_client_verify` to the returned access log.
 */
async function startNginx (t: Test, name: string, h2: boolean): Promise<{ port: number, accessLog: string } | undefined> {
  if (!existsSync(NGINX)) {
    t.fail(`${NGINX} is not installed: install nginx (CI installs nginx-light) to run this interop test`)
    return undefined
  }
  const { cert, key } = await writeSvid(name, await makeSvid(a, `/backend/${name}`))
  const nginxPort = await freePort()
  const conf = join(dir, `${name}.conf`)
  const errorLog = join(dir, `${name}-error.log`)
  const accessLog = join(dir, `${name}-access.log`)
  await writeFile(conf, nginxConf(dir, name, `  log_format proto '$server_protocol $ssl_client_verify';
  access_log ${accessLog} proto;
  server {
    listen 127.0.0.1:${nginxPort} ssl${h2 ? ' http2' : ''};
    ssl_certificate ${cert};
    ssl_certificate_key ${key};
    ssl_client_certificate ${proxyRoot};
    ssl_verify_client on;
    location / { return 200 "client=$ssl_client_s_dn verify=$ssl_client_verify protocol=$server_protocol\\n"; }
  }`))
  const nginx = child(NGINX, ['-c', conf, '-p', dir, '-e', errorLog])
  const describe = (): string => nginx.output()
  await waitFor(async () => nginx.exited() || await canConnect(nginxPort), `nginx ${name} to listen`, describe)
  if (nginx.exited()) {
    const log = await readFile(errorLog, 'utf8').catch(() => '')
    throw new Error(`nginx exited: ${nginx.output()}\n${log}`)
  }
  return { port: nginxPort, accessLog }
}

t.test('nginx with ssl_verify_client on verifies the proxy\'s client SVID', async (t) => {
  const nginx = await startNginx(t, 'nginx', false)
  if (nginx === undefined) return
  const port = await proxyTo(nginx.port)
  const res = await fetchText(port, '/')
  t.equal(res.status, 200, res.body)
  t.match(res.body, /verify=SUCCESS protocol=HTTP\/1\.1\n$/, 'nginx verified the proxy\'s client certificate chain')
  t.match(res.body, /^client=/)
})

t.test('nginx as an HTTP/2 mTLS backend: a protocol HTTP2 service reaches it over h2', async (t) => {
  const nginx = await startNginx(t, 'nginx-h2', true)
  if (nginx === undefined) return
  const started = await startTestProxy(t, {
    connect: connector,
    services: [testService('peer', [{ port: nginx.port }], { protocol: 'HTTP2' })],
    urlMap: { defaultService: 'peer' }
  })
  for (const path of ['/one', '/two']) {
    const res = await fetchText(started.port, path)
    t.equal(res.status, 200, res.body)
    t.match(res.body, /verify=SUCCESS protocol=HTTP\/2\.0\n$/, `${path}: nginx verified the proxy's client SVID and spoke HTTP/2`)
  }
  // nginx writes the access log line when the request ends: wait for both.
  const lines = async (): Promise<string[]> => (await readFile(nginx.accessLog, 'utf8').catch(() => '')).split('\n').filter((l) => l !== '')
  await waitFor(async () => (await lines()).length >= 2, 'two nginx access log lines', () => nginx.accessLog)
  t.same(await lines(), ['HTTP/2.0 SUCCESS', 'HTTP/2.0 SUCCESS'], 'nginx logged both requests as HTTP/2.0 with a verified client')
})
