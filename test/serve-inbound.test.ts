// Two spiffe-lb processes in two trust domains federated by additionalTrustBundles: the
// outbound one forwards over SPIFFE mTLS to the inbound one (frontend.serverTlsPolicy), which
// verifies it in the client role and forwards cleartext to a plain application on loopback.
// curl and nginx (proxy_ssl_certificate) call the inbound listener as clients; a reload that
// removes the outbound domain's trust ends an open keep-alive connection.
import { spawn, execFile, type ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import https from 'node:https'
import { join } from 'node:path'
import { promisify } from 'node:util'
import t from 'tap'
import { startCountingApp } from './inbound-fixtures.ts'
import { NGINX, accepting, freePort, nginxConf } from './nginx-peer.ts'
import { makeDomain, makeSvid, tempDir, writeCredentials } from './tls-fixtures.ts'

const run = promisify(execFile)
const main = new URL('../src/cli/main.ts', import.meta.url).pathname
const NUMBER = '123456789012'
const LB_TD = `lb-pool.global.${NUMBER}.workload.id.goog`
const SHOP_TD = `shop-pool.global.${NUMBER}.workload.id.goog`
const [lb, shop, stranger] = await Promise.all([makeDomain(LB_TD), makeDomain(SHOP_TD), makeDomain('stranger.test')])
const lbSvid = await makeSvid(lb, '/ns/lb/sa/frontend')
const shopSvid = await makeSvid(shop, '/ns/shop/sa/api', { dnsNames: ['api.shop.internal'] })
const dir = await tempDir(t)
await Promise.all(['lb', 'shop'].map(async (d) => { await mkdir(join(dir, d)) }))
const lbFiles = await writeCredentials(join(dir, 'lb'), lbSvid, [lb.bundle])
await writeCredentials(join(dir, 'shop'), shopSvid, [shop.bundle])
await writeFile(join(dir, 'lb-root.pem'), lb.bundle.toPem())
await writeFile(join(dir, 'shop-root.pem'), shop.bundle.toPem())
const strangerSvid = await makeSvid(stranger, '/ns/x/sa/y')
await writeFile(join(dir, 'stranger.pem'), strangerSvid.chainPem())
await writeFile(join(dir, 'stranger.key'), strangerSvid.privateKeyPem(), { mode: 0o600 })

const app = await startCountingApp()
t.teardown(app.close)

const pool = (id: string, trusted: Record<string, string>, namespaces = ''): string => `  - id: ${id}
    mode: TRUST_DOMAIN
    inlineTrustConfig:
      additionalTrustBundles:${Object.keys(trusted).length === 0 ? ' {}' : ''}
${Object.entries(trusted).map(([td, file]) => `        ${td}: { trustAnchors: [{ pemFile: ${file} }] }`).join('\n')}
${namespaces}`

const inboundYaml = (trustLb: boolean): string => `project: { id: shop-project, number: "${NUMBER}" }
workloadIdentityPools:
${pool('shop-pool', trustLb ? { [LB_TD]: join(dir, 'lb-root.pem') } : {})}
backendServices:
  - name: app
    protocol: HTTP
    customRequestHeaders:
      - "X-Client-Cert-Present:{client_cert_present}"
      - "X-Client-Cert-Chain-Verified:{client_cert_chain_verified}"
      - "X-Client-Cert-SPIFFE:{client_cert_spiffe_id}"
    backends: [{ endpoints: ["127.0.0.1:${app.port}"] }]
frontend:
  listen: "127.0.0.1:0"
  # Long enough that only the trust change can end the test's keep-alive connection.
  limits: { keepAliveTimeout: 120s }
  serverTlsPolicy:
    serverCertificate: { identity: "spiffe://${SHOP_TD}/ns/shop/sa/api" }
    mtlsPolicy: { clientValidationMode: REJECT_INVALID, allowedPeers: ["${LB_TD}"] }
admin: { listen: "127.0.0.1:0" }
credentials: { source: directory, directory: ${join(dir, 'shop')} }
`

const outboundYaml = (inboundPort: number): string => `project: { id: lb-project, number: "${NUMBER}" }
workloadIdentityPools:
${pool('lb-pool', { [SHOP_TD]: join(dir, 'shop-root.pem') }, `    namespaces: [{ id: lb, managedIdentities: [{ id: frontend, attestationRules: [{ googleCloudResource: "//compute.googleapis.com/projects/${NUMBER}/type/BackendService/*" }] }] }]`)}
backendServices:
  - name: shop
    tlsSettings: { identity: "//${LB_TD}/ns/lb/sa/frontend" }
    backends: [{ endpoints: ["127.0.0.1:${inboundPort}"] }]
frontend: { listen: "127.0.0.1:0" }
admin: { listen: "127.0.0.1:0" }
credentials: { source: directory, directory: ${join(dir, 'lb')} }
`

/** Starts `serve -c file`; resolves with its proxy and admin urls once both listen. */
async function serve (file: string): Promise<{ proxy: string, admin: string, output: () => string, proc: ChildProcess }> {
  const proc = spawn(process.execPath, [main, 'serve', '-c', file, '--log-format', 'json', '--drain-timeout', '1s'], { stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  proc.stdout.on('data', (d: Buffer) => { output += d.toString() })
  proc.stderr.on('data', (d: Buffer) => { output += d.toString() })
  t.teardown(() => { proc.kill('SIGKILL') })
  const end = Date.now() + 30_000
  while (!(/proxy listening on (\S+?)"/.test(output) && /admin listening on (\S+?)"/.test(output))) {
    if (Date.now() > end || proc.exitCode !== null) throw new Error(`serve did not start (exit ${String(proc.exitCode)} ${String(proc.signalCode)}):\n${output}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  return { proxy: /proxy listening on (\S+?)"/.exec(output)?.[1] ?? '', admin: /admin listening on (\S+?)"/.exec(output)?.[1] ?? '', output: () => output, proc }
}

const inboundFile = join(dir, 'inbound.yaml')
const outboundFile = join(dir, 'outbound.yaml')
let inbound: Awaited<ReturnType<typeof serve>>
let outbound: Awaited<ReturnType<typeof serve>>
let inboundPort = 0
t.before(async () => {
  await writeFile(inboundFile, inboundYaml(true))
  inbound = await serve(inboundFile)
  inboundPort = Number(new URL(inbound.proxy).port)
  await writeFile(outboundFile, outboundYaml(inboundPort))
  outbound = await serve(outboundFile)
})

t.test('proxy → spiffe-lb inbound (another trust domain) → plain app', async (t) => {
  t.match(inbound.proxy, /^https:/, 'the inbound listener announces https')
  const res = await fetch(`${outbound.proxy}/orders`, { headers: { 'X-Client-Cert-SPIFFE': 'spiffe://forged/x' } })
  t.equal(res.status, 200, inbound.output())
  t.equal(await res.text(), 'app saw /orders')
  const seen = app.requests.at(-1)?.headers ?? {}
  t.equal(seen['x-client-cert-spiffe'], `spiffe://${LB_TD}/ns/lb/sa/frontend`, 'the outbound proxy\'s verified SVID, the forged header removed')
  t.equal(seen['x-client-cert-chain-verified'], 'true')
  const metrics = await (await fetch(`${inbound.admin}/metrics`)).text()
  t.match(metrics, new RegExp(`spiffe_lb_inbound_handshakes_total\\{outcome="accepted",code="",trust_domain="${LB_TD.replaceAll('.', '\\.')}"\\} [1-9]`))
  t.match(metrics, new RegExp(`spiffe_lb_inbound_requests_total\\{trust_domain="${LB_TD.replaceAll('.', '\\.')}",code="200"\\} [1-9]`))
  const status = await (await fetch(`${inbound.admin}/status`)).json() as { inbound: { clientValidationMode: string, serverCertificate: string, openConnections: number, connections: Record<string, number> } }
  t.match(status.inbound, { clientValidationMode: 'REJECT_INVALID', serverCertificate: `spiffe://${SHOP_TD}/ns/shop/sa/api`, connections: { accepted: Number } })
  const peers = await (await fetch(`${inbound.admin}/debug/peers`)).json() as { peers: Array<{ endpoint: string, verdict: string, direction?: string, spiffeId?: string }> }
  t.match(peers.peers, [{ endpoint: 'inbound 127.0.0.1', verdict: 'accept', direction: 'inbound', spiffeId: `spiffe://${LB_TD}/ns/lb/sa/frontend` }])
})

t.test('curl as a client: with the SVID it gets through, without one or from an untrusted domain nothing reaches the app', async (t) => {
  const before = app.requests.length
  const curl = async (...args: string[]): Promise<{ code: number, stdout: string }> => {
    try {
      const { stdout } = await run('curl', ['-sS', '-k', '--max-time', '10', ...args, `${inbound.proxy}/curl`])
      return { code: 0, stdout }
    } catch (err) { return { code: (err as { code: number }).code, stdout: '' } }
  }
  t.same(await curl('--cert', lbFiles.cert, '--key', lbFiles.key), { code: 0, stdout: 'app saw /curl' })
  t.same(await curl('--http2', '--cert', lbFiles.cert, '--key', lbFiles.key), { code: 0, stdout: 'app saw /curl' }, 'h2 by ALPN')
  t.not((await curl()).code, 0, 'no client certificate: refused')
  t.not((await curl('--cert', join(dir, 'stranger.pem'), '--key', join(dir, 'stranger.key'))).code, 0, 'a domain without a bundle: refused')
  t.equal(app.requests.length, before + 2)
  await logged(/"code":"ERR_SPIFFE_TLS_NO_PEER_CERTIFICATE"[^\n]*inbound client refused/)
  await logged(/"code":"ERR_SPIFFE_VERIFY_NO_BUNDLE"[^\n]*inbound client refused/)
  t.pass('both refusals are logged with their code')
  const metrics = await (await fetch(`${inbound.admin}/metrics`)).text()
  t.match(metrics, /spiffe_lb_inbound_handshakes_total\{outcome="refused",code="ERR_SPIFFE_VERIFY_NO_BUNDLE",trust_domain=""\} 1/)
})

t.test('probe --role client judges the listener and sends one request as a caller', async (t) => {
  const probe = async (cert: string, key: string): Promise<{ code: number, stdout: string }> => {
    try {
      const { stdout } = await run(process.execPath, [main, 'probe', '--role', 'client', '--path', '/probed', '--cert', cert, '--key', key, '--bundle', `${SHOP_TD}=${join(dir, 'shop-root.pem')}`, `127.0.0.1:${inboundPort}`])
      return { code: 0, stdout }
    } catch (err) { const e = err as { code: number, stdout: string }; return { code: e.code, stdout: e.stdout } }
  }
  const ok = await probe(lbFiles.cert, lbFiles.key)
  t.equal(ok.code, 0, ok.stdout)
  t.match(ok.stdout, /request: +GET \/probed -> 200 app saw \/probed\n +listener: +lets us in/)
  const refused = await probe(join(dir, 'stranger.pem'), join(dir, 'stranger.key'))
  t.equal(refused.code, 1, refused.stdout)
  t.match(refused.stdout, /does not let us in|refused/)
})

t.test('nginx with proxy_ssl_certificate as a client', async (t) => {
  if (!existsSync(NGINX)) { t.fail(`${NGINX} is not installed`); return }
  const port = await freePort()
  const conf = join(dir, 'nginx.conf')
  await writeFile(conf, nginxConf(dir, 'nginx', `  access_log off;
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass https://127.0.0.1:${inboundPort};
      proxy_ssl_certificate ${lbFiles.cert};
      proxy_ssl_certificate_key ${lbFiles.key};
      proxy_ssl_trusted_certificate ${join(dir, 'shop-root.pem')};
      proxy_ssl_verify on;
      proxy_ssl_name api.shop.internal;
      proxy_ssl_verify_depth 2;
    }
  }`))
  const nginx = spawn(NGINX, ['-c', conf, '-p', dir, '-e', join(dir, 'nginx-error.log')], { stdio: 'ignore' })
  t.teardown(() => { nginx.kill('SIGTERM') })
  const end = Date.now() + 15_000
  while (!await accepting(port)) {
    if (Date.now() > end) throw new Error(`nginx did not start: ${await readFile(join(dir, 'nginx-error.log'), 'utf8').catch(() => '')}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  const res = await fetch(`http://127.0.0.1:${port}/via-nginx`)
  const body = await res.text()
  t.equal(res.status, 200, `${body}\n${await readFile(join(dir, 'nginx-error.log'), 'utf8').catch(() => '')}`)
  t.equal(body, 'app saw /via-nginx')
  t.equal(app.requests.at(-1)?.headers['x-client-cert-spiffe'], `spiffe://${LB_TD}/ns/lb/sa/frontend`)
})

t.test('bad input: cleartext to a non-loopback endpoint, and --workers, are refused with their codes', async (t) => {
  const cli = async (...args: string[]): Promise<{ code: number, out: string }> => {
    try {
      const { stdout, stderr } = await run(process.execPath, [main, ...args])
      return { code: 0, out: stdout + stderr }
    } catch (err) { const e = err as { code: number, stdout: string, stderr: string }; return { code: e.code, out: e.stdout + e.stderr } }
  }
  const remote = join(dir, 'remote.yaml')
  await writeFile(remote, inboundYaml(true).replace(`"127.0.0.1:${app.port}"`, '"10.1.2.3:3000"'))
  const checked = await cli('serve', '--check', '-c', remote)
  t.equal(checked.code, 2)
  t.match(checked.out, /backendServices\[0\]\.backends\[0\]\.endpoints\[0\].*ERR_SPIFFE_CONFIG_CLEARTEXT_ENDPOINT/)
  t.notMatch(checked.out, /\n\s+at /, 'no stack trace')
  const workers = await cli('serve', '--workers', '2', '-c', inboundFile)
  t.equal(workers.code, 2, workers.out)
  t.match(workers.out, /ERR_SPIFFE_SERVE_INBOUND_WORKERS/)
})

t.test('a reload that removes the client\'s trust domain ends its open keep-alive connection', async (t) => {
  const agent = new https.Agent({ keepAlive: true, maxSockets: 1, cert: lbSvid.chainPem(), key: lbSvid.privateKeyPem(), rejectUnauthorized: false })
  t.teardown(() => { agent.destroy() })
  // An object around the promise: resolving with a promise itself would wait for the close.
  const { closed } = await new Promise<{ closed: Promise<void> }>((resolve, reject) => {
    const req = https.get({ host: '127.0.0.1', port: inboundPort, path: '/keep', agent }, (res) => {
      res.resume()
      res.once('end', () => { resolve({ closed: new Promise<void>((resolve) => { req.socket?.once('close', () => { resolve() }) }) }) })
    })
    req.on('error', reject)
  })
  await writeFile(inboundFile, inboundYaml(false))
  inbound.proc.kill('SIGHUP')
  await closed
  await logged(/"outcome":"ended","code":"ERR_SPIFFE_VERIFY_NO_BUNDLE"/)
  t.pass('the ended connection is logged with its code')
  const after = await fetch(`${outbound.proxy}/orders`)
  t.equal(after.status, 502, 'the outbound proxy is refused now')
})

/** Resolves once the inbound process has logged a line matching `re` (its log is buffered). */
async function logged (re: RegExp): Promise<void> {
  const end = Date.now() + 15_000
  while (!re.test(inbound.output())) {
    if (Date.now() > end) throw new Error(`not logged: ${String(re)}\n${inbound.output()}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

