// Revocation: `ca revoke` publishes the CA's CRL; `verify --crl` rejects a revoked SVID with its own
// code, reports a stale CRL by the documented policy (closed by default), and consumes CRLs made by
// `openssl ca` too; `openssl verify -crl_check` agrees on ours.
import t from 'tap'
import { execFile } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { fileURLToPath } from 'node:url'
import { isSpiffeLbError } from '../src/internal/errors.ts'
import { runCaCreate } from '../src/commands/ca/ca-create.ts'
import { runCaRevoke } from '../src/commands/ca/ca-revoke.ts'
import { runSvidIssue } from '../src/commands/svid/svid-issue.ts'
import { runVerify, type VerifyCommandOptions } from '../src/commands/verify/verify-chain.ts'

const REPO = fileURLToPath(new URL('..', import.meta.url))
const dir = await mkdtemp(join(tmpdir(), 'spiffe-lb-crl-'))
t.teardown(async () => { await rm(dir, { recursive: true, force: true }) })
const p = (...parts: string[]): string => join(dir, ...parts)

interface Run { code: number, stdout: string, stderr: string }
async function inProcess (fn: (out: { stdout: Writable, stderr: Writable }) => Promise<number>): Promise<Run & { code2?: string }> {
  const text = { stdout: '', stderr: '' }
  const sink = (k: 'stdout' | 'stderr'): Writable => new Writable({ write (c, _e, cb) { text[k] += String(c); cb() } })
  try {
    return { code: await fn({ stdout: sink('stdout'), stderr: sink('stderr') }), ...text }
  } catch (err) {
    if (!isSpiffeLbError(err)) throw err
    return { code: 2, ...text, stderr: `${err.code}: ${err.message}` }
  }
}
async function sh (cmd: string, args: string[]): Promise<Run> {
  return await new Promise((resolve) => {
    execFile(cmd, args, { cwd: REPO }, (err, stdout, stderr) => { resolve({ code: err === null ? 0 : Number(err.code), stdout, stderr }) })
  })
}
const TD = 'example.org'
const verify = async (o: Partial<VerifyCommandOptions> & { chain: string }): Promise<Run> =>
  await inProcess(async (out) => await runVerify({ bundle: [`${TD}=${p('root', 'ca.pem')}`], trustConfig: [], role: 'server', ...o }, out))

await inProcess(async (out) => await runCaCreate({ out: p('root'), subject: 'CN=Test Root, O=Test', lifetime: '315360000s' }, out))
for (const name of ['revoked', 'kept']) {
  const r = await inProcess(async (out) => await runSvidIssue({ ca: p('root'), id: `spiffe://${TD}/${name}`, out: p(name), lifetime: '86400s', dns: [] }, out))
  if (r.code !== 0) throw new Error(r.stderr)
}

t.test('ca revoke publishes a CRL that verify and openssl verify -crl_check both apply', async (t) => {
  const revoke = await inProcess(async (out) => await runCaRevoke({ ca: p('root'), cert: p('revoked', 'certificates.pem'), crlValidity: '3600s' }, out))
  t.equal(revoke.code, 0, revoke.stderr)
  t.match(revoke.stdout, /^revoked serial [0-9a-f]+; wrote .*crl\.pem \(1 revoked\)\n$/)

  const rejected = await verify({ chain: p('revoked', 'certificates.pem'), crl: [p('root', 'crl.pem')] })
  t.equal(rejected.code, 1)
  t.match(rejected.stdout, /^reject: certificate .* is revoked by the crl of "CN=Test Root, O=Test" .*\(ERR_SPIFFE_VERIFY_REVOKED\)\n$/)
  const kept = await verify({ chain: p('kept', 'certificates.pem'), crl: [p('root', 'crl.pem')] })
  t.same([kept.code, kept.stdout], [0, `accept spiffe://${TD}/kept\n`])

  const [osslRevoked, osslKept] = await Promise.all(['revoked', 'kept'].map(async (name) =>
    await sh('openssl', ['verify', '-crl_check', '-CAfile', p('root', 'ca.pem'), '-CRLfile', p('root', 'crl.pem'), p(name, 'certificates.pem')])))
  t.equal(osslRevoked?.code, 2, 'openssl rejects the revoked one')
  t.match(`${osslRevoked?.stdout ?? ''}${osslRevoked?.stderr ?? ''}`, /certificate revoked/)
  t.equal(osslKept?.code, 0, `${osslKept?.stdout ?? ''}${osslKept?.stderr ?? ''}`)
})

t.test('a stale CRL fails closed by default, open when asked (with a warning)', async (t) => {
  const later = new Date(Date.now() + 2 * 3_600_000).toISOString() // past the 3600s CRL, within the 24h SVID
  const closed = await verify({ chain: p('kept', 'certificates.pem'), crl: [p('root', 'crl.pem')], now: later })
  t.equal(closed.code, 1)
  t.match(closed.stdout, /^reject: crl of "CN=Test Root, O=Test" .* is stale: its nextUpdate .* has passed .*fail closed \(ERR_SPIFFE_VERIFY_CRL_STALE\)\n$/)
  const open = await verify({ chain: p('kept', 'certificates.pem'), crl: [p('root', 'crl.pem')], now: later, staleCrl: 'fail-open' })
  t.equal(open.code, 0)
  t.match(open.stderr, /^warning: crl of .* is stale.*fail open\n$/)
})

t.test('a CRL made by openssl ca is consumed', async (t) => {
  const cnf = p('openssl-ca.cnf')
  await writeFile(p('index.txt'), '')
  await writeFile(p('crlnumber'), '01\n')
  await writeFile(cnf, `[ ca ]\ndefault_ca = d\n[ d ]\ndatabase = ${p('index.txt')}\ncrlnumber = ${p('crlnumber')}\ndefault_md = sha256\ndefault_crl_days = 1\n`)
  const key = ['-config', cnf, '-cert', p('root', 'ca.pem'), '-keyfile', p('root', 'ca.key.pem')]
  const rev = await sh('openssl', ['ca', ...key, '-revoke', p('kept', 'certificates.pem')])
  t.equal(rev.code, 0, rev.stderr)
  const gen = await sh('openssl', ['ca', ...key, '-gencrl', '-out', p('openssl-crl.pem')])
  t.equal(gen.code, 0, gen.stderr)
  const r = await verify({ chain: p('kept', 'certificates.pem'), crl: [p('openssl-crl.pem')] })
  t.equal(r.code, 1)
  t.match(r.stdout, /\(ERR_SPIFFE_VERIFY_REVOKED\)/)
  const der = p('openssl-crl.der')
  t.equal((await sh('openssl', ['crl', '-in', p('openssl-crl.pem'), '-outform', 'DER', '-out', der])).code, 0)
  t.match((await verify({ chain: p('kept', 'certificates.pem'), crl: [der] })).stdout, /\(ERR_SPIFFE_VERIFY_REVOKED\)/, 'DER too')
})

t.test('a CRL no trusted CA signed is refused, not ignored', async (t) => {
  await inProcess(async (out) => await runCaCreate({ out: p('other'), subject: 'CN=Test Root, O=Test', lifetime: '315360000s' }, out))
  await inProcess(async (out) => await runCaRevoke({ ca: p('other'), serial: '01', crlValidity: '3600s' }, out))
  const r = await verify({ chain: p('kept', 'certificates.pem'), crl: [p('other', 'crl.pem')] })
  t.equal(r.code, 2)
  t.match(r.stderr, /^ERR_SPIFFE_PKI_CRL_UNVERIFIED: crl .* of issuer "CN=Test Root, O=Test" is not signed by any trusted ca/)
})
