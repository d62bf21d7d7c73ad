import t from 'tap'
import { execFile } from 'node:child_process'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { fileURLToPath } from 'node:url'
import type { CommandOutput } from '../src/process/command-output.ts'
import { runVerify, type VerifyCommandOptions } from '../src/commands/verify/verify-chain.ts'
import { isSpiffeLbError } from '../src/internal/errors.ts'
import { createRootCa, issueCertificate } from '../src/pki/index.ts'

// `verify` names every broken rule, and takes a whole serving config as --trust-config.

const REPO = fileURLToPath(new URL('..', import.meta.url))
const dir = await mkdtemp(join(tmpdir(), 'spiffe-lb-verify-'))
t.teardown(async () => { await rm(dir, { recursive: true, force: true }) })
const p = (...parts: string[]): string => join(dir, ...parts)

const DEMO = 'demo-pool.global.123456789012.workload.id.goog'
const demoRoot = await createRootCa({ subject: 'CN=Demo Root CA' })
const partnerRoot = await createRootCa({ subject: 'CN=Partner Root' })
await mkdir(p('state', 'ca-pools', 'root-pool'), { recursive: true })
await mkdir(p('certs'))
await writeFile(p('state', 'ca-pools', 'root-pool', 'ca.pem'), demoRoot.certPem) // what the local CA pool store writes
await writeFile(p('certs', 'partner-root.pem'), partnerRoot.certPem)
await writeFile(p('partner-root.pem'), partnerRoot.certPem)
const example = await readFile(join(REPO, 'examples', 'two-trust-domains.yaml'), 'utf8')
await writeFile(p('serve.yaml'), example.replace('stateDir: .spiffe-lb', 'stateDir: state'))

const write = async (name: string, pem: string): Promise<string> => { await writeFile(p(name), pem); return p(name) }
const good = await write('partner-good.pem', (await issueCertificate(partnerRoot, { uris: ['spiffe://partner.example/api'] })).chainPem)
const ours = await write('demo-good.pem', (await issueCertificate(demoRoot, { uris: [`spiffe://${DEMO}/ns/b/sa/web`] })).chainPem)
// Five faults at once: a CA leaf, keyCertSign, no digitalSignature, clientAuth only, signed by another domain's root.
const multi = await write('partner-bad.pem', (await issueCertificate(demoRoot, {
  uris: ['spiffe://partner.example/api'], isCa: true, keyUsage: ['keyCertSign'], extKeyUsage: ['clientAuth']
})).chainPem)

async function verify (o: Partial<VerifyCommandOptions> & { chain: string }): Promise<{ code: number, stdout: string }> {
  let stdout = ''
  const sink = new Writable({ write (chunk, _e, cb) { stdout += String(chunk); cb() } })
  const out: CommandOutput = { stdout: sink, stderr: sink }
  const code = await runVerify({ bundle: [], trustConfig: [], role: 'server', ...o }, out)
  return { code, stdout }
}

t.test('a serving config as --trust-config: its derived trust stores', async (t) => {
  const partner = await verify({ chain: good, trustConfig: [p('serve.yaml')] })
  t.same(partner, { code: 0, stdout: 'accept spiffe://partner.example/api\n' })
  const own = await verify({ chain: ours, trustConfig: [p('serve.yaml')] })
  t.same(own, { code: 0, stdout: `accept spiffe://${DEMO}/ns/b/sa/web\n` }, 'the pool\'s own root, read from the state dir')
})

t.test('every broken rule, one line each, in the verifier\'s order', async (t) => {
  const r = await verify({ chain: multi, trustConfig: [p('serve.yaml')] })
  t.equal(r.code, 1)
  const codes = r.stdout.trim().split('\n').map((l) => /\((ERR_[A-Z_]+)\)$/.exec(l)?.[1])
  t.same(codes, ['ERR_SPIFFE_SVID_IS_CA', 'ERR_SPIFFE_SVID_KEY_CERT_SIGN', 'ERR_SPIFFE_SVID_NO_DIGITAL_SIGNATURE',
    'ERR_SPIFFE_SVID_EKU_NO_SERVER_AUTH', 'ERR_SPIFFE_VERIFY_NO_PATH'])
  for (const line of r.stdout.trim().split('\n')) t.match(line, /^reject: [a-z]/)
})

t.test('a serving config that does not validate is a usage error', async (t) => {
  await writeFile(p('broken.yaml'), 'project: { id: x, number: "1" }\nbackendServices: [{ name: "Bad Name" }]\n')
  try {
    await verify({ chain: good, trustConfig: [p('broken.yaml')] })
    t.fail('must throw')
  } catch (err) {
    t.ok(isSpiffeLbError(err, 'ERR_SPIFFE_CONFIG_INVALID'), String(err))
  }
})

t.test('the CLI: exit 1 and every rule on stdout', async (t) => {
  const run = await new Promise<{ code: number, stdout: string }>((resolve) => {
    execFile(process.execPath, ['src/cli/main.ts', 'verify', '--bundle', `partner.example=${p('partner-root.pem')}`, multi], { cwd: REPO },
      (err, stdout) => { resolve({ code: err === null ? 0 : Number(err.code), stdout }) })
  })
  t.equal(run.code, 1)
  t.equal(run.stdout.trim().split('\n').length, 5)
})
