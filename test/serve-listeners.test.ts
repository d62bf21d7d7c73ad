// `serve` through the CLI with a TLS frontend and `admin.allowedHosts`: the listening line says
// `https://` and the proxy answers TLS there; the admin listener answers a Host that is an IP
// literal, localhost or the configured name, and 421 to any other name (DNS rebinding).
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdir, writeFile } from 'node:fs/promises'
import { request as httpRequest } from 'node:http'
import { request as httpsRequest } from 'node:https'
import { join } from 'node:path'
import t from 'tap'
import { stringify } from 'yaml'
import { baseDoc, edit, rootPem } from '../src/config/testing/config-fixtures.ts'
import { createRootCa, issueCertificate } from '../src/pki/index.ts'
import { makeDomain, makeSvid, tempDir, writeCredentials } from './tls-fixtures.ts'

const main = new URL('../src/cli/main.ts', import.meta.url).pathname
const TD = 'demo-pool.global.123456789012.workload.id.goog'

const dir = await tempDir(t)
const creds = join(dir, 'creds')
await mkdir(creds)
const domain = await makeDomain(TD)
await writeCredentials(creds, await makeSvid(domain, '/ns/lb/sa/frontend'), [domain.bundle])
const ca = await createRootCa({ subject: 'CN=frontend root', keyAlgorithm: 'ECDSA_P256' })
const leaf = await issueCertificate(ca, { subject: 'CN=localhost', dnsNames: ['localhost'], extKeyUsage: ['serverAuth'] })
await writeFile(join(dir, 'frontend.pem'), leaf.chainPem)
await writeFile(join(dir, 'frontend-key.pem'), leaf.keyPem, { mode: 0o600 })
const config = join(dir, 'config.yaml')
await writeFile(config, stringify(edit(baseDoc(await rootPem()),
  [['credentials'], { source: 'directory', directory: creds }],
  [['frontend'], { listen: '127.0.0.1:0', tls: { certFile: 'frontend.pem', keyFile: 'frontend-key.pem' } }],
  [['admin'], { listen: '127.0.0.1:0', allowedHosts: ['Metrics.Internal.Example'] }])))

const child = spawn(process.execPath, [main, 'serve', '-c', config, '--log-format', 'json'], { stdio: ['ignore', 'pipe', 'pipe'] })
let stdout = ''
child.stdout.on('data', (d: Buffer) => { stdout += d.toString() })
child.stderr.on('data', (d: Buffer) => { stdout += d.toString() })
t.teardown(async () => {
  if (child.exitCode !== null) return
  child.kill('SIGKILL')
  await once(child, 'exit')
})
const end = Date.now() + 60_000
while (!/admin listening on http:\/\/[^"]+/.test(stdout)) {
  if (child.exitCode !== null || Date.now() > end) throw new Error(`serve did not start:\n${stdout}`)
  await new Promise((resolve) => setTimeout(resolve, 50))
}
const proxyUrl = /proxy listening on ([^"\s]+)/.exec(stdout)?.[1] ?? ''
const adminUrl = new URL(/admin listening on ([^"\s]+)/.exec(stdout)?.[1] ?? '')

t.test('a TLS frontend is logged as https:// and answers TLS there', async (t) => {
  t.match(proxyUrl, /^https:\/\/127\.0\.0\.1:\d+$/)
  const url = new URL(proxyUrl)
  const status = await new Promise<number>((resolve, reject) => {
    const req = httpsRequest({ host: url.hostname, port: url.port, path: '/', servername: 'localhost', ca: ca.certPem, agent: false }, (res) => {
      res.resume()
      resolve(res.statusCode ?? 0)
    })
    req.on('error', reject)
    req.end()
  })
  t.ok(status >= 200, `an HTTP answer over TLS (${status})`)
})

/** GETs /metrics from the admin listener with `host` as the Host header. */
async function adminStatus (host: string): Promise<number> {
  return await new Promise((resolve, reject) => {
    const req = httpRequest({ host: adminUrl.hostname, port: adminUrl.port, path: '/metrics', agent: false, headers: { host } }, (res) => {
      res.resume()
      resolve(res.statusCode ?? 0)
    })
    req.on('error', reject)
    req.end()
  })
}

t.test('the admin listener answers an ip, localhost and admin.allowedHosts; 421 for other names', async (t) => {
  t.equal(await adminStatus(adminUrl.host), 200, 'scraping by address')
  t.equal(await adminStatus(`localhost:${adminUrl.port}`), 200)
  t.equal(await adminStatus(`metrics.internal.example:${adminUrl.port}`), 200, 'the configured name')
  t.equal(await adminStatus(`rebind.attacker.example:${adminUrl.port}`), 421, 'a name that resolves here by DNS rebinding')
})
