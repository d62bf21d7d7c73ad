// The test backend's `--crl TD=FILE`: a client (proxy) SVID its CRL revokes is refused after the
// handshake, which the proxy reports as the backend refusing its SVID; an unrevoked client of
// the same CA is served (probe); a new CRL file is picked up without a restart. (probe cannot
// see this refusal: a Node backend sends its session tickets before it judges the client.)
import t from 'tap'
import { execFile } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { fileURLToPath } from 'node:url'
import { startBackendCommand } from '../src/testbed/backend-starter.ts'
import { runCaCreate } from '../src/commands/ca/ca-create.ts'
import { runCaRevoke } from '../src/commands/ca/ca-revoke.ts'
import { runSvidIssue } from '../src/commands/svid/svid-issue.ts'
import { readFile } from 'node:fs/promises'
import { createBackendConnector } from '../src/tls/backend-connector.ts'
import { fetchText, startTestProxy, testService } from '../src/proxy/test-support.ts'
import { TrustDomain } from '../src/spiffe/trust-domain.ts'
import { X509Bundle } from '../src/spiffe/x509-bundle.ts'
import { X509Svid } from '../src/spiffe/x509-svid.ts'
import { TestSnapshots } from './tls-fixtures.ts'

const REPO = fileURLToPath(new URL('..', import.meta.url))
const dir = await mkdtemp(join(tmpdir(), 'spiffe-lb-backend-crl-'))
t.teardown(async () => { await rm(dir, { recursive: true, force: true }) })
const p = (...parts: string[]): string => join(dir, ...parts)
const quiet = new Writable({ write (_c, _e, cb) { cb() } })
const TD = 'example.org'

await runCaCreate({ out: p('root'), subject: 'CN=Test Root, O=Test', lifetime: '315360000s' }, { stdout: quiet, stderr: quiet })
for (const name of ['backend', 'proxy', 'other']) {
  const code = await runSvidIssue({ ca: p('root'), id: `spiffe://${TD}/${name}`, out: p(name), lifetime: '86400s', dns: [] }, { stdout: quiet, stderr: quiet })
  if (code !== 0) throw new Error(`svid issue ${name} failed`)
}
// A CRL exists from the start (revoking nothing the clients use), as an operator would deploy it.
await runCaRevoke({ ca: p('root'), serial: '01', crlValidity: '3600s' }, { stdout: quiet, stderr: quiet })

async function probe (port: number, client: string): Promise<{ code: number, stdout: string }> {
  return await new Promise((resolve) => {
    execFile(process.execPath, ['src/cli/main.ts', 'probe', `127.0.0.1:${port}`, '--cert', p(client, 'certificates.pem'), '--key', p(client, 'private_key.pem'),
      '--bundle', `${TD}=${p('root', 'ca.pem')}`, '--json'], { cwd: REPO }, (err, stdout) => { resolve({ code: err === null ? 0 : Number(err.code), stdout }) })
  })
}

t.test('backend --crl refuses a revoked client SVID and follows the CRL file', async (t) => {
  let log = ''
  const sink = new Writable({ write (c, _e, cb) { log += String(c); cb() } })
  const running = await startBackendCommand({
    listen: '127.0.0.1:0', cert: p('backend', 'certificates.pem'), key: p('backend', 'private_key.pem'),
    bundle: [`${TD}=${p('root', 'ca.pem')}`], crl: [`${TD}=${p('root', 'crl.pem')}`]
  }, { stdout: sink, stderr: quiet }) // the backend's one log output is stdout
  t.teardown(running.stop)
  const port = running.backend.port

  const svid = X509Svid.fromPem(await readFile(p('proxy', 'certificates.pem'), 'utf8'), await readFile(p('proxy', 'private_key.pem'), 'utf8'), 'proxy')
  const bundle = X509Bundle.fromPem(TrustDomain.fromString(TD), await readFile(p('root', 'ca.pem'), 'utf8'), 'root')
  // One request per connection: each request meets the backend's current verdict.
  const connector = createBackendConnector({ snapshots: new TestSnapshots(svid, [bundle]), sessionResumption: false })
  t.teardown(() => { connector.close() })
  const proxy = await startTestProxy(t, { connect: connector, services: [testService('web', [{ port }], { protocol: 'HTTPS', connectionPool: { maxRequestsPerConnection: 0, keepAlive: false } })], urlMap: { defaultService: 'web', hostRules: [], pathMatchers: [] } })
  t.equal((await fetchText(proxy.port, '/x')).status, 200, 'not revoked yet: served')
  const generation = running.store.current()?.bundleGeneration ?? 0
  await runCaRevoke({ ca: p('root'), cert: p('proxy', 'certificates.pem'), crlValidity: '3600s' }, { stdout: quiet, stderr: quiet })
  const end = Date.now() + 30_000
  while ((running.store.current()?.bundleGeneration ?? 0) === generation) {
    if (Date.now() > end) throw new Error('the new crl was not picked up')
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  const refused = await fetchText(proxy.port, '/x')
  t.equal(refused.status, 502)
  t.match(refused.body, /backend 127\.0\.0\.1:\d+ closed the connection after the tls handshake without a response: it most likely refused the proxy's svid "spiffe:\/\/example\.org\/proxy".*\(ERR_SPIFFE_TLS_REFUSED_BY_PEER\)/)
  t.match(log, /"reason":"ERR_SPIFFE_VERIFY_REVOKED".*client refused: client .* is revoked by the crl of \\"CN=Test Root, O=Test\\"/, 'the backend logs why')
  t.equal((await probe(port, 'other')).code, 0, 'another client of the same CA is still served')
})

t.test('backend --crl refuses a CRL its trust domain\'s CA did not sign, and a malformed argument', async (t) => {
  await runCaCreate({ out: p('foreign'), subject: 'CN=Test Root, O=Test', lifetime: '315360000s' }, { stdout: quiet, stderr: quiet })
  await runCaRevoke({ ca: p('foreign'), serial: '01', crlValidity: '3600s' }, { stdout: quiet, stderr: quiet })
  const opts = { listen: '127.0.0.1:0', cert: p('backend', 'certificates.pem'), key: p('backend', 'private_key.pem'), bundle: [`${TD}=${p('root', 'ca.pem')}`] }
  await t.rejects(startBackendCommand({ ...opts, crl: [`${TD}=${p('foreign', 'crl.pem')}`] }, { stdout: quiet, stderr: quiet }), { code: 'ERR_SPIFFE_PKI_CRL_UNVERIFIED' })
  await t.rejects(startBackendCommand({ ...opts, crl: [p('root', 'crl.pem')] }, { stdout: quiet, stderr: quiet }), { code: 'ERR_SPIFFE_CLI_BAD_BUNDLE_ARG', message: /--crl .* must be TRUST_DOMAIN=CRL_FILE/ })
})
