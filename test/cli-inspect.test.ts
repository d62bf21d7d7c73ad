import t from 'tap'
import { execFile, execFileSync } from 'node:child_process'
import { X509Certificate } from 'node:crypto'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parsePem } from '../src/internal/pem.ts'

// `inspect` and `verify` as openssl users expect them: DER certificates and CRLs told apart from
// PEM by content, a certificate that is not a SPIFFE one called that, extension names, expiry as
// exit 1, and errors as JSON with --json (also for `probe`). One CLI process per command.

// Many CLI processes, each a second or more of start-up on a shared, loaded machine: give the
// file more than the default 120 s (the runner is told; no assertion depends on time).
t.setTimeout(600_000)
const REPO = fileURLToPath(new URL('..', import.meta.url))
const dir = await mkdtemp(join(tmpdir(), 'spiffe-lb-inspect-'))
t.teardown(async () => { await rm(dir, { recursive: true, force: true }) })
const p = (...parts: string[]): string => join(dir, ...parts)

interface Run { code: number, stdout: string, stderr: string }
async function cli (...args: string[]): Promise<Run> {
  return await new Promise((resolve) => {
    execFile(process.execPath, ['src/cli/main.ts', ...args], { cwd: REPO }, (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : -1, stdout, stderr })
    })
  })
}
const ok = (r: Run): Run => { if (r.code !== 0) throw new Error(r.stderr); return r }
const derOf = async (pemFile: string, type: string): Promise<Buffer> => {
  const block = parsePem(await readFile(pemFile, 'utf8')).find((b) => b.type === type)
  if (block === undefined) throw new Error(`${pemFile} has no ${type}`)
  return block.der
}

const TD = 'example.org'
const ID = `spiffe://${TD}/ns/web/sa/api`
ok(await cli('ca', 'create-root', '--out', p('root'), '--subject', 'CN=Inspect Root, O=Test'))
ok(await cli('svid', 'issue', '--ca', p('root'), '--id', ID, '--out', p('web'), '--lifetime', '3600s'))
ok(await cli('ca', 'revoke', '--ca', p('root'), '--cert', p('web', 'certificates.pem')))
await writeFile(p('leaf.der'), await derOf(p('web', 'certificates.pem'), 'CERTIFICATE'))
await writeFile(p('crl.der'), await derOf(p('root', 'crl.pem'), 'X509 CRL'))
const leaf = new X509Certificate(await readFile(p('leaf.der')))
const during = leaf.validFromDate.toISOString()
const after = new Date(leaf.validToDate.getTime() + 3 * 3_600_000).toISOString()

t.test('a DER certificate is inspected and verified like its PEM', async (t) => {
  const pem = await cli('inspect', '--now', during, p('web', 'certificates.pem'))
  const der = await cli('inspect', '--now', during, p('leaf.der'))
  t.equal(der.code, 0, der.stderr)
  t.match(der.stdout, /^Certificate 1 of 1\n/)
  t.match(der.stdout, `SPIFFE ID:          ${ID}\n`)
  t.equal(der.stdout, pem.stdout, 'the same text as the PEM (a leaf of the root alone)')
  const verify = await cli('verify', '--now', during, '--bundle', `${TD}=${p('root', 'ca.pem')}`, p('leaf.der'))
  t.equal(verify.code, 0, verify.stderr)
  t.equal(verify.stdout, `accept ${ID}\n`)
})

t.test('a CRL, DER or PEM, is shown as openssl crl -text would, and applied by verify', async (t) => {
  for (const file of [p('crl.der'), p('root', 'crl.pem')]) {
    const r = await cli('inspect', '--now', during, file)
    t.equal(r.code, 0, r.stderr)
    t.match(r.stdout, /^Certificate Revocation List\n\s+Issuer:\s+CN=Inspect Root, O=Test\n/)
    t.match(r.stdout, /Revoked Certificates:\s+1\n\s+Serial Number: [0-9a-f:]+ {2}Revoked: \d{4}-/)
    t.match(r.stdout, leaf.serialNumber.toLowerCase().match(/../g)?.join(':') ?? 'x')
  }
  const json = await cli('inspect', '--json', '--now', during, p('crl.der'))
  const doc = JSON.parse(json.stdout) as { crl: { revoked: Array<{ serialHex: string }>, stale: boolean } }
  t.same(doc.crl.revoked.map((r) => r.serialHex), [leaf.serialNumber.toLowerCase()])
  t.equal(doc.crl.stale, false)
  const stale = await cli('inspect', '--now', new Date(Date.now() + 30 * 86_400_000).toISOString(), p('crl.der'))
  t.equal(stale.code, 1, 'a CRL past its nextUpdate exits 1')
  t.match(stale.stderr, /^stale: the crl of CN=Inspect Root, O=Test is past its nextUpdate .* \(--allow-expired exits 0\)\n$/)
  const revoked = await cli('verify', '--bundle', `${TD}=${p('root', 'ca.pem')}`, '--crl', p('crl.der'), p('leaf.der'))
  t.equal(revoked.code, 1)
  t.match(revoked.stdout, /ERR_SPIFFE_VERIFY_REVOKED/)
})

t.test('an expired certificate exits 1 with the reason, unless --allow-expired', async (t) => {
  const expired = await cli('inspect', '--now', after, p('web', 'certificates.pem'))
  t.equal(expired.code, 1)
  t.match(expired.stdout, /Not After:\s+\S+ \(expired 3h ago\)\n/)
  t.equal(expired.stderr, `expired: certificate 1 of 1 (${ID}) expired 3h ago, at ${leaf.validToDate.toISOString()} (--allow-expired exits 0)\n`)
  const allowed = await cli('inspect', '--allow-expired', '--json', '--now', after, p('leaf.der'))
  t.equal(allowed.code, 0)
  const doc = JSON.parse(allowed.stdout) as Array<{ expired: boolean }>
  t.same(doc.map((c) => c.expired), [true])
})

const hasOpenssl = ((): boolean => { try { execFileSync('openssl', ['version']); return true } catch { return false } })()
t.test('certificates made by openssl: not SPIFFE ones are called that; extensions are named', { skip: hasOpenssl ? false : 'openssl is not installed' }, async (t) => {
  const make = (name: string, exts: string[]): string => {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '30',
      '-subj', `/CN=${name}`, '-keyout', p(`${name}.key`), '-out', p(`${name}.pem`), ...exts.flatMap((e) => ['-addext', e])], { stdio: 'ignore' })
    return p(`${name}.pem`)
  }
  const web = make('web', ['basicConstraints=critical,CA:FALSE', 'subjectAltName=DNS:web.example',
    'crlDistributionPoints=URI:http://crl.example/ca.crl', 'authorityInfoAccess=OCSP;URI:http://ocsp.example',
    'tlsfeature=status_request', '1.2.3.4.5.6=ASN1:UTF8String:opaque'])
  const https = make('https', ['basicConstraints=critical,CA:FALSE', 'subjectAltName=URI:https://web.example/api'])
  const r = await cli('inspect', web)
  t.equal(r.code, 0, r.stderr)
  t.match(r.stdout, /SPIFFE ID:\s+none \(not a SPIFFE certificate: it has no URI SAN\)\n/)
  t.match(r.stdout, /CRL Distribution Points:\n\s+URI:http:\/\/crl\.example\/ca\.crl\n/)
  t.match(r.stdout, /Authority Info Access:\n\s+OCSP - URI:http:\/\/ocsp\.example\n/)
  t.match(r.stdout, /TLS Feature:\n\s+\(not decoded\)\n/)
  t.match(r.stdout, /1\.2\.3\.4\.5\.6:\n\s+\(unknown extension, not decoded\)\n/, 'an OID nobody names stays an OID')
  const u = await cli('inspect', '--json', https)
  const doc = JSON.parse(u.stdout) as Array<{ spiffe: { id: null, reason: string } }>
  t.same(doc[0]?.spiffe, { id: null, reason: 'not a SPIFFE certificate: its URI SAN "https://web.example/api" is not a spiffe:// ID' })
})

t.test('with --json, errors are JSON on stdout and the exit code is unchanged', async (t) => {
  const cases: Array<[string[], string, number]> = [
    [['inspect', '--json', p('missing.pem')], 'ERR_SPIFFE_CLI_READ_FILE', 2],
    [['inspect', '--json', p('root', 'ca.key.pem')], 'ERR_SPIFFE_CLI_NO_CERTIFICATE', 2],
    [['verify', '--json', '--bundle', 'no-equals-sign', p('leaf.der')], 'ERR_SPIFFE_CLI_BUNDLE_ARG', 2],
    [['verify', '--json', '--bogus', p('leaf.der')], 'ERR_SPIFFE_CLI_USAGE', 2],
    [['probe', '--json', 'not-a-target'], 'ERR_SPIFFE_CLI_PROBE_TARGET', 2]
  ]
  const runs = await Promise.all(cases.map(async ([args]) => await cli(...args)))
  for (const [i, [args, code, exit]] of cases.entries()) {
    const r = runs[i] ?? { code: -1, stdout: '', stderr: '' }
    t.equal(r.code, exit, args.join(' '))
    t.equal(r.stderr, '', 'nothing on stderr')
    const doc = JSON.parse(r.stdout) as { error: { code: string, message: string } }
    t.same(Object.keys(doc.error), ['code', 'message'])
    t.equal(doc.error.code, code)
    t.match(doc.error.message, /\S/)
  }
  const text = await cli('inspect', p('missing.pem'))
  t.equal(text.stdout, '', 'without --json the error stays a line on stderr')
  t.match(text.stderr, /^spiffe-lb: ERR_SPIFFE_CLI_READ_FILE: /)
  const verdict = await cli('verify', '--json', '--bundle', `${TD}=${p('root', 'ca.pem')}`, '--now', during, p('web', 'certificates.pem'))
  t.equal(verdict.code, 0, verdict.stderr)
  t.same(JSON.parse(verdict.stdout), { verdict: 'accept', id: ID, failures: [], warnings: [] })
})
