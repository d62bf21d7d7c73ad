// A SPIRE-style config: `tlsSettings.identity` is a spiffe id of any trust domain, the SVID and
// bundles come from a credential directory (`svid issue --out`), and there is no project, pool
// or CA pool. `serve` forwards to a backend of that domain; an SVID of another id is refused,
// loudly (error record with its code, /status lastError, 502).
import t, { type Test } from 'tap'
import { spawn } from 'node:child_process'
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { startBackendCommand } from '../src/testbed/backend-starter.ts'
import { runCaCreate } from '../src/commands/ca/ca-create.ts'
import { runSvidIssue } from '../src/commands/svid/svid-issue.ts'
import { TrustDomain } from '../src/spiffe/trust-domain.ts'
import { X509Bundle } from '../src/spiffe/x509-bundle.ts'

const main = new URL('../src/cli/main.ts', import.meta.url).pathname
const example = new URL('../examples/any-trust-domain-directory.yaml', import.meta.url).pathname
const quiet = new Writable({ write (_c, _e, cb) { cb() } })
const ID = 'spiffe://example.org/ns/lb/sa/frontend'

const dir = await mkdtemp(join(tmpdir(), 'spiffe-lb-any-td-'))
t.teardown(async () => { await rm(dir, { recursive: true, force: true }) })
const p = (...parts: string[]): string => join(dir, ...parts)
await runCaCreate({ out: p('ca'), subject: 'CN=Example Org Root', lifetime: '315360000s' }, { stdout: quiet, stderr: quiet })
for (const [name, id] of [['creds', ID], ['backend', 'spiffe://example.org/ns/web/sa/backend']] as const) {
  if (await runSvidIssue({ ca: p('ca'), id, out: p(name), lifetime: '3600s', dns: [] }, { stdout: quiet, stderr: quiet }) !== 0) throw new Error(`svid issue ${name}`)
}
const backend = await startBackendCommand({ listen: '127.0.0.1:0', cert: p('backend', 'certificates.pem'), key: p('backend', 'private_key.pem'), bundle: [`example.org=${p('ca', 'ca.pem')}`] },
  { stdout: quiet, stderr: quiet })
t.teardown(backend.stop)

/** Writes the example with the test's directory, backend and free ports, the identity `identity`; returns its path. */
async function config (name: string, identity: string, trustBundles = false): Promise<string> {
  const text = (await readFile(example, 'utf8'))
    .replace(/\ntrustBundles:[\s\S]*$/, (m) => trustBundles ? m : '\n')
    .replace('directory: creds', `directory: ${name === 'override' ? p('creds-partner') : p('creds')}`)
    .replace(`identity: ${ID}`, `identity: ${identity}`)
    .replace('["127.0.0.1:8443"]', `["127.0.0.1:${backend.backend.port}"]`)
    .replace('"127.0.0.1:8080"', '"127.0.0.1:0"')
    .replace('"127.0.0.1:9901"', '"127.0.0.1:0"')
  if (/project|workloadIdentityPools|caPools/.test(text)) throw new Error('cloud resources in the config')
  const file = p(`${name}.yaml`)
  await writeFile(file, text)
  return file
}

async function serve (t: Test, file: string): Promise<{ proxy: string, admin: string, output: () => string }> {
  const child = spawn(process.execPath, [main, 'serve', '-c', file, '--log-format', 'json'], { stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  child.stdout.on('data', (d: Buffer) => { out += d.toString() })
  child.stderr.on('data', (d: Buffer) => { out += d.toString() })
  t.teardown(() => { child.kill('SIGKILL') })
  const end = Date.now() + 60_000
  while (!/admin listening on http:/.test(out)) {
    if (Date.now() > end || child.exitCode !== null) throw new Error(`serve did not start:\n${out}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  return {
    proxy: /proxy listening on (http:[^\s"]+)/.exec(out)?.[1] ?? '',
    admin: /admin listening on (http:[^\s"]+)/.exec(out)?.[1] ?? '',
    output: () => out
  }
}

t.test('an example.org SVID in a directory, no pools: serve forwards to an example.org backend', async (t) => {
  const file = await config('good', ID)
  const s = await serve(t, file)
  const res = await fetch(`${s.proxy}/hello`)
  t.equal(res.status, 200)
  const body = await res.json() as { peer: string, self: string }
  t.equal(body.peer, ID, 'the backend saw the proxy\'s example.org id')
  const status = await (await fetch(`${s.admin}/status`)).json() as { identity: { spiffeId: string, lastError?: string } }
  t.equal(status.identity.spiffeId, ID)
  t.equal(status.identity.lastError, undefined)
})

t.test('an SVID that does not carry the configured id is refused loudly', async (t) => {
  const file = await config('other', 'spiffe://example.org/ns/lb/sa/someone-else')
  const s = await serve(t, file)
  const res = await fetch(`${s.proxy}/hello`)
  t.equal(res.status, 502)
  const status = await (await fetch(`${s.admin}/status`)).json() as { identity: { lastError?: string } }
  t.match(status.identity.lastError, /^ERR_SPIFFE_CREDENTIALS_WRONG_IDENTITY: svid id "spiffe:\/\/example\.org\/ns\/lb\/sa\/frontend" is not the configured identity "spiffe:\/\/example\.org\/ns\/lb\/sa\/someone-else"/)
  const records = s.output().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { level: number, code?: string, msg: string })
  const loud = records.find((r) => r.code === 'ERR_SPIFFE_CREDENTIALS_WRONG_IDENTITY')
  t.equal(loud?.level, 50, 'logged at error')
  t.match(loud?.msg, /is not the configured identity.*ERR_SPIFFE_CREDENTIALS_WRONG_IDENTITY/)
})

t.test('a trust domain from the directory and from trustBundles with other anchors: the directory wins, said once', async (t) => {
  await runCaCreate({ out: p('partner-a'), subject: 'CN=Partner A', lifetime: '315360000s' }, { stdout: quiet, stderr: quiet })
  await runCaCreate({ out: p('partner-b'), subject: 'CN=Partner B', lifetime: '315360000s' }, { stdout: quiet, stderr: quiet })
  await cp(p('creds'), p('creds-partner'), { recursive: true })
  const delivered = X509Bundle.fromPem(TrustDomain.fromString('partner.example'), await readFile(p('partner-a', 'ca.pem'), 'utf8'))
  await writeFile(p('creds-partner', 'trust_bundles.json'), JSON.stringify({ trust_domains: { 'partner.example': delivered.toJwks() } }))
  await mkdir(p('certs'), { recursive: true })
  await cp(p('partner-b', 'ca.pem'), p('certs', 'partner-root.pem'))
  const file = await config('override', ID, true)
  t.match(await readFile(file, 'utf8'), /pemFile: certs\/partner-root\.pem/)
  const s = await serve(t, file)
  t.equal((await fetch(`${s.proxy}/hello`)).status, 200, 'served: nothing was refused')
  const status = await (await fetch(`${s.admin}/status`)).json() as { trustDomains: Array<{ trustDomain: string, anchorFingerprints: string[] }> }
  t.same(status.trustDomains.find((d) => d.trustDomain === 'partner.example')?.anchorFingerprints, delivered.fingerprints(), 'the delivered anchors are in force')
  await fetch(`${s.proxy}/hello`)
  const warnings = s.output().split('\n').filter((l) => l.includes('ERR_SPIFFE_CREDENTIALS_TRUST_DOMAIN_OVERRIDDEN')).map((l) => JSON.parse(l) as { level: number, msg: string })
  t.equal(warnings.length, 1, 'warned once')
  t.match(warnings[0], { level: 40, msg: /trust domain "partner\.example" is delivered by the credential source with other anchors/ })
})
