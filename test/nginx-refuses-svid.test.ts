// nginx with `ssl_verify_client on` and a bundle that does not trust the proxy: over TLS 1.3 the
// handshake completes, then nginx answers the request with 400 "The SSL certificate error".
// `probe` sends the request the proxy would and says reject with its own code; the proxy answers
// 502 with that code (not nginx's page) and counts the endpoint as failed. A control nginx that
// trusts the proxy is accepted by both.
import t, { type Test } from 'tap'
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createBackendConnector } from '../src/tls/backend-connector.ts'
import { fetchText, startTestProxy, testService } from '../src/proxy/test-support.ts'
import { DEFAULT_OUTLIER_DETECTION } from '../src/proxy/limits.ts'
import { NGINX, accepting, freePort, nginxConf } from './nginx-peer.ts'
import { TestSnapshots, makeDomain, makeSvid } from './tls-fixtures.ts'

const main = new URL('../src/cli/main.ts', import.meta.url).pathname
const [proxyTd, other] = await Promise.all([makeDomain('example.org'), makeDomain('other.test')])
const lbSvid = await makeSvid(proxyTd, '/ns/lb/sa/frontend')
const dir = await mkdtemp(join(tmpdir(), 'spiffe-lb-nginx-refuses-'))
t.teardown(async () => { await rm(dir, { recursive: true, force: true }) })
const f = (name: string): string => join(dir, name)
await writeFile(f('proxy-chain.pem'), lbSvid.chainPem())
await writeFile(f('proxy-key.pem'), lbSvid.privateKeyPem(), { mode: 0o600 })
await writeFile(f('proxy-td.pem'), proxyTd.bundle.toPem())
await writeFile(f('other-td.pem'), other.bundle.toPem())

/** Starts nginx presenting an example.org SVID and verifying clients against `clientCa`. */
async function startNginx (t: Test, name: string, clientCa: string): Promise<number | undefined> {
  if (!existsSync(NGINX)) { t.fail(`${NGINX} is not installed`); return undefined }
  const svid = await makeSvid(proxyTd, `/ns/web/sa/${name}`)
  await writeFile(f(`${name}-chain.pem`), svid.chainPem())
  await writeFile(f(`${name}-key.pem`), svid.privateKeyPem(), { mode: 0o600 })
  const port = await freePort()
  await writeFile(f(`${name}.conf`), nginxConf(dir, name, `  access_log off;
  server {
    listen 127.0.0.1:${port} ssl;
    ssl_protocols TLSv1.3;
    ssl_certificate ${f(`${name}-chain.pem`)};
    ssl_certificate_key ${f(`${name}-key.pem`)};
    ssl_client_certificate ${clientCa};
    ssl_verify_client on;
    location / { return 200 "hello from ${name}\\n"; }
  }`))
  const nginx = spawn(NGINX, ['-c', f(`${name}.conf`), '-p', dir, '-e', f(`${name}-error.log`)], { stdio: 'ignore' })
  t.teardown(() => { nginx.kill('SIGTERM') })
  const end = Date.now() + 20_000
  while (!await accepting(port)) {
    if (Date.now() > end || nginx.exitCode !== null) throw new Error(`nginx ${name} did not start: ${await readFile(f(`${name}-error.log`), 'utf8').catch(() => '')}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  return port
}

async function probe (port: number, ...extra: string[]): Promise<{ code: number, stdout: string }> {
  const child = spawn(process.execPath, [main, 'probe', `127.0.0.1:${port}`, '--cert', f('proxy-chain.pem'), '--key', f('proxy-key.pem'),
    '--bundle', `example.org=${f('proxy-td.pem')}`, ...extra], { stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  child.stdout.on('data', (d: Buffer) => { stdout += d.toString() })
  child.stderr.on('data', (d: Buffer) => { stdout += d.toString() })
  const code = await new Promise<number>((resolve) => child.once('exit', (c) => { resolve(c ?? -1) }))
  return { code, stdout }
}

interface Report { clientCertificateRequest?: { requested: boolean, caNames: string[] }, verdict: string, failures: Array<{ code: string, message: string }>, http?: { status: number }, refusedUs?: unknown, connectionError?: { stage: string, code?: string } }

t.test('probe: nginx that does not trust the proxy is a reject with its own code; one that does is an accept with its status', async (t) => {
  const refusing = await startNginx(t, 'refusing', f('other-td.pem'))
  const trusting = await startNginx(t, 'trusting', f('proxy-td.pem'))
  if (refusing === undefined || trusting === undefined) return
  const bad = await probe(refusing, '--json', '--path', '/hello')
  t.equal(bad.code, 1, bad.stdout)
  const report = JSON.parse(bad.stdout) as Report
  t.equal(report.verdict, 'reject')
  t.same(report.failures.map((x) => x.code), ['ERR_SPIFFE_TLS_SVID_REFUSED_AFTER_HANDSHAKE'])
  t.match(report.failures[0]?.message, /refused our svid after the handshake: it answered the request with 400 "400 The SSL certificate error"/)
  t.equal(report.http?.status, 400)
  t.same(report.clientCertificateRequest, { requested: true, caNames: ['CN=other.test root, O=spiffe-lb test'] }, 'nginx asked for a client certificate of the other CA')
  const text = await probe(refusing)
  t.match(text.stdout, /http answer: +400 Bad Request/)
  t.match(text.stdout, /ERR_SPIFFE_TLS_SVID_REFUSED_AFTER_HANDSHAKE/)

  const good = await probe(trusting, '--json')
  t.equal(good.code, 0, good.stdout)
  const ok = JSON.parse(good.stdout) as Report
  t.same([ok.verdict, ok.http?.status, ok.failures], ['accept', 200, []])
  t.same(ok.clientCertificateRequest, { requested: true, caNames: ['CN=example.org root, O=spiffe-lb test'] }, 'and this one of the proxy\'s CA')
})

t.test('probe --json: a refused tcp connection is a connection error, not a refusal of our svid', async (t) => {
  const r = await probe(await freePort(), '--json')
  t.equal(r.code, 2, r.stdout)
  const report = JSON.parse(r.stdout) as Report
  t.equal(report.refusedUs, undefined)
  t.match(report.connectionError, { stage: 'connect', code: 'ECONNREFUSED' })
  t.match(report.failures, [{ code: 'ERR_SPIFFE_TLS_CONNECT_FAILED' }])
})

t.test('the proxy answers 502 with the code, not nginx\'s page, and counts the endpoint as failed', async (t) => {
  const refusing = await startNginx(t, 'refusing-proxy', f('other-td.pem'))
  if (refusing === undefined) return
  const connector = createBackendConnector({ snapshots: new TestSnapshots(lbSvid, [proxyTd.bundle]) })
  t.teardown(() => { connector.close() })
  const proxy = await startTestProxy(t, {
    connect: connector,
    services: [testService('web', [{ port: refusing }], { protocol: 'HTTPS', outlierDetection: { ...DEFAULT_OUTLIER_DETECTION, consecutiveGatewayFailure: 1, enforcingConsecutiveGatewayFailure: 100, maxEjectionPercent: 100 } })],
    urlMap: { defaultService: 'web', hostRules: [], pathMatchers: [] }
  })
  const res = await fetchText(proxy.port, '/hello')
  t.equal(res.status, 502)
  t.match(res.body, /^backend 127\.0\.0\.1:\d+ refused our svid after the handshake: it answered 400 "The SSL certificate error".*\(ERR_SPIFFE_TLS_SVID_REFUSED_AFTER_HANDSHAKE\)$/m)
  t.notMatch(res.body, /<html>/)
  const endpoint = proxy.proxy.status().services[0]?.endpoints[0]
  t.equal(endpoint?.healthy, false, `the endpoint counts as failed: ${JSON.stringify(endpoint)}`)
})
