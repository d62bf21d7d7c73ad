import t from 'tap'
import { execFile } from 'node:child_process'
import { X509Certificate, createPrivateKey } from 'node:crypto'
import { existsSync } from 'node:fs'
import { chmod, mkdir, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { fileURLToPath } from 'node:url'
import { runCaCreate, type CaCommandOptions } from '../src/commands/ca/ca-create.ts'
import type { CommandOutput } from '../src/process/command-output.ts'
import { runInspect } from '../src/commands/inspect/inspect.ts'
import { runSvidIssue, type SvidIssueOptions } from '../src/commands/svid/svid-issue.ts'
import { runVerify, type VerifyCommandOptions } from '../src/commands/verify/verify-chain.ts'
import { isSpiffeLbError, type SpiffeLbError } from '../src/internal/errors.ts'
import { createRootCa } from '../src/pki/index.ts'

// The certificate commands end to end, as a user runs them: one node process per command.

const REPO = fileURLToPath(new URL('..', import.meta.url))
const dir = await mkdtemp(join(tmpdir(), 'spiffe-lb-cli-'))
t.teardown(async () => { await rm(dir, { recursive: true, force: true }) })

interface Run { code: number, stdout: string, stderr: string }
async function cli (...args: string[]): Promise<Run> {
  return await new Promise((resolve) => {
    execFile(process.execPath, ['src/cli/main.ts', ...args], { cwd: REPO }, (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : -1, stdout, stderr })
    })
  })
}
const p = (...parts: string[]): string => join(dir, ...parts)

/** Runs a command's run function with captured output; a coded error is what the CLI turns into exit 2. */
async function inProcess (fn: (out: CommandOutput) => Promise<number>): Promise<Run & { error?: SpiffeLbError }> {
  const text = { stdout: '', stderr: '' }
  const sink = (k: 'stdout' | 'stderr'): Writable => new Writable({ write (chunk, _enc, cb) { text[k] += String(chunk); cb() } })
  try {
    const code = await fn({ stdout: sink('stdout'), stderr: sink('stderr') })
    return { code, ...text }
  } catch (err) {
    if (!isSpiffeLbError(err)) throw err
    return { code: 2, ...text, error: err }
  }
}
const mode = async (path: string): Promise<string> => ((await stat(path)).mode & 0o777).toString(8)
const certsIn = (pem: string): X509Certificate[] =>
  [...pem.matchAll(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g)].map((m) => new X509Certificate(m[0]))

const TD = 'demo-pool.global.123456789012.workload.id.goog'
const ID = `spiffe://${TD}/ns/lb/sa/frontend`

t.test('create-root, create-subordinate, svid issue, inspect, verify', async (t) => {
  const root = await cli('ca', 'create-root', '--out', p('root'), '--subject', 'CN=Demo Root CA, O=Demo', '--key-algorithm', 'ec-p256-sha256', '--max-chain-length', '1')
  t.equal(root.code, 0, root.stderr)
  t.match(root.stdout, `wrote ${p('root', 'ca.pem')}`)
  t.match(root.stdout, `wrote ${p('root', 'ca.key.pem')} (mode 0600)`)
  t.match(root.stdout, /root ca "CN=Demo Root CA, O=Demo": ECDSA_P256, max chain length 1/)
  t.equal(await mode(p('root', 'ca.key.pem')), '600')

  const sub = await cli('ca', 'create-subordinate', '--parent', p('root'), '--out', p('sub'), '--subject', 'CN=Demo Sub CA, O=Demo', '--key-algorithm', 'ECDSA_P384')
  t.equal(sub.code, 0, sub.stderr)
  t.same((await readdir(p('sub'))).sort(), ['ca.key.pem', 'ca.pem', 'chain.pem', 'root.pem'])
  t.equal(await readFile(p('sub', 'root.pem'), 'utf8'), await readFile(p('root', 'ca.pem'), 'utf8'), 'root.pem is the root')
  t.same(certsIn(await readFile(p('sub', 'chain.pem'), 'utf8')).map((c) => c.subject), ['CN=Demo Sub CA\nO=Demo'], 'chain.pem: sub, no root')

  const issue = await cli('svid', 'issue', '--ca', p('sub'), '--id', ID, '--out', p('creds'), '--dns', 'lb.example', '--dns', 'lb2.example')
  t.equal(issue.code, 0, issue.stderr)
  t.match(issue.stdout, `issued ${ID}`)
  t.same((await readdir(p('creds'))).sort(), ['ca_certificates.pem', 'certificates.pem', 'private_key.pem'], 'GCE layout, no temp files left')
  t.equal(await mode(p('creds', 'private_key.pem')), '600')
  const chain = certsIn(await readFile(p('creds', 'certificates.pem'), 'utf8'))
  const [leaf, inter] = chain
  if (leaf === undefined || inter === undefined) throw new Error('certificates.pem must hold leaf + intermediate')
  t.equal(chain.length, 2)
  t.equal(leaf.subjectAltName, `URI:${ID}, DNS:lb.example, DNS:lb2.example`)
  t.ok(leaf.checkIssued(inter) && leaf.verify(inter.publicKey), 'leaf then its issuer')
  t.ok(leaf.checkPrivateKey(createPrivateKey(await readFile(p('creds', 'private_key.pem'), 'utf8'))), 'key matches')
  t.equal(await readFile(p('creds', 'ca_certificates.pem'), 'utf8'), await readFile(p('root', 'ca.pem'), 'utf8'))
  t.equal(leaf.validToDate.getTime() - leaf.validFromDate.getTime(), 86_400_000 - 1000, 'default lifetime 86400s')

  const at = leaf.validFromDate.toISOString()
  const inspect = await cli('inspect', '--now', at, p('creds', 'certificates.pem'))
  t.equal(inspect.code, 0, inspect.stderr)
  t.match(inspect.stdout, /Certificate 1 of 2\n/)
  t.match(inspect.stdout, /Certificate 2 of 2 \(CA\)\n/)
  t.match(inspect.stdout, /Subject Alternative Name: critical\n\s+URI:spiffe:\/\/demo-pool[^\n]*, DNS:lb\.example/)
  t.match(inspect.stdout, /Key Usage: critical\n\s+Digital Signature\n/)
  t.match(inspect.stdout, /TLS Web Server Authentication, TLS Web Client Authentication/)
  t.match(inspect.stdout, /CA:TRUE, pathlen:0/)
  t.match(inspect.stdout, /Public Key:\s+EC P-384 \(384 bit\) \[ECDSA_P384\]/)
  t.match(inspect.stdout, `SPIFFE ID:          ${ID}\n`)
  t.match(inspect.stdout, `Trust Domain:       ${TD}\n`)
  t.match(inspect.stdout, /Expiry:\s+23h 59m left\n/)
  const rotation = new Date(leaf.validFromDate.getTime() + 43_199_000).toISOString()
  t.match(inspect.stdout, `Rotation (50%):     ${rotation} (in 11h 59m)`)
  t.match(inspect.stdout, `Fingerprint SHA-256:  ${leaf.fingerprint256}`)

  const later = new Date(leaf.validToDate.getTime() + 2 * 3_600_000 + 1000).toISOString()
  const [accept, wrongDomain, expiredVerify, noBundles, noOut] = await Promise.all([
    cli('verify', '--bundle', `${TD}=${p('root', 'ca.pem')}`, p('creds', 'certificates.pem')),
    cli('verify', '--bundle', `example.org=${p('root', 'ca.pem')}`, p('creds', 'certificates.pem')),
    cli('verify', '--now', later, '--bundle', `${TD}=${p('root', 'ca.pem')}`, p('creds', 'certificates.pem')),
    cli('verify', p('creds', 'certificates.pem')),
    cli('ca', 'create-root', '--subject', 'CN=x')
  ])
  t.equal(noBundles.code, 2, 'usage error: exit 2')
  t.match(noBundles.stderr, /^spiffe-lb: ERR_SPIFFE_CLI_NO_BUNDLES: no trust bundles: give --bundle/)
  t.equal(noOut.code, 2, 'commander usage error: exit 2')
  t.match(noOut.stderr, /required option '--out <dir>' not specified/)

  const json = await inProcess(async (out) => await runInspect({ file: p('creds', 'certificates.pem'), json: true, now: at }, out))
  t.equal(json.code, 0)
  const doc = JSON.parse(json.stdout) as Array<{ serialHex: string, spiffe?: { id: string, trustDomain: string, timeLeft: string } }>
  t.equal(doc.length, 2)
  t.same(doc[0]?.spiffe && { id: doc[0].spiffe.id, trustDomain: doc[0].spiffe.trustDomain, timeLeft: doc[0].spiffe.timeLeft },
    { id: ID, trustDomain: TD, timeLeft: '23h 59m left' })
  t.equal(doc[0]?.serialHex, leaf.serialNumber.toLowerCase())
  t.equal(doc[1]?.spiffe, undefined, 'no SPIFFE view of a CA')
  const expired = await inProcess(async (out) => await runInspect({ file: p('creds', 'certificates.pem'), now: later }, out))
  t.match(expired.stdout, /Expiry:\s+expired 2h ago\n/)
  const asClient = await inProcess(async (out) => await runVerify({ chain: p('creds', 'certificates.pem'), bundle: [`${TD}=${p('creds', 'ca_certificates.pem')}`], trustConfig: [], role: 'client' }, out))
  t.equal(asClient.code, 0)
  t.equal(asClient.stdout, `accept ${ID}\n`)

  t.equal(accept.code, 0, accept.stderr)
  t.equal(accept.stdout, `accept ${ID}\n`)
  t.equal(wrongDomain.code, 1, 'a bundle of another trust domain never vouches')
  t.match(wrongDomain.stdout, /^reject: no trust bundle for trust domain .*\(ERR_SPIFFE_VERIFY_NO_BUNDLE\)\n$/)
  t.equal(expiredVerify.code, 1)
  t.match(expiredVerify.stdout, /^reject: .*expired.*\(ERR_SPIFFE_SVID_EXPIRED\)\n$/)
})

t.test('verify reads every trust config shape (in process)', async (t) => {
  const rootPem = await readFile(p('root', 'ca.pem'), 'utf8')
  const der = certsIn(rootPem)[0]?.raw.toString('base64') ?? ''
  const jwks = { keys: [{ use: 'x509-svid', kty: 'EC', crv: 'P-256', x5c: [der] }] }
  const indent = rootPem.trim().split('\n').join('\n        ')
  await writeFile(p('trust-config.yaml'), `name: projects/p/locations/global/trustConfigs/mi-tc-1\nspiffeTrustStores:\n  ${TD}:\n    trustAnchors:\n    - pemCertificate: |-\n        ${indent}\n`)
  await writeFile(p('trust_bundles.json'), JSON.stringify({ trust_domains: { [TD]: { ...jwks, spiffe_sequence: 1 } } }))
  await writeFile(p('bundle-map.json'), JSON.stringify({ [`spiffe://${TD}`]: jwks }))
  await writeFile(p('bare-stores.json'), JSON.stringify({ [TD]: { trustAnchors: [{ pemCertificate: rootPem }] } }))
  await writeFile(p('pool.yaml'), `inlineTrustConfig:\n  additionalTrustBundles:\n    ${TD}:\n      trustAnchors:\n      - pemCertificate: ${JSON.stringify(rootPem)}\n`)
  const chain = p('creds', 'certificates.pem')
  for (const f of ['trust-config.yaml', 'trust_bundles.json', 'bundle-map.json', 'bare-stores.json', 'pool.yaml']) {
    const r = await inProcess(async (out) => await runVerify({ chain, bundle: [], trustConfig: [p(f)], role: 'server' }, out))
    t.equal(r.code, 0, `${f}: ${r.stdout}${r.stderr}`)
    t.equal(r.stdout, `accept ${ID}\n`, f)
  }
  const other = await createRootCa({ subject: 'CN=Other' })
  await writeFile(p('other.pem'), other.certPem)
  const mixed = await inProcess(async (out) => await runVerify({ chain, bundle: [`example.org=${p('other.pem')}`], trustConfig: [p('trust-config.yaml')], role: 'client' }, out))
  t.equal(mixed.code, 0, 'sources merge, one bundle per domain')
})

t.test('usage errors and unreadable input are coded errors naming the file and rule (in process)', async (t) => {
  // Through the run functions, each CLI process costing about a second of CPU; program.ts maps
  // any SpiffeLbError to exit 2 (the spawned cases above prove that end to end).
  const chain = p('creds', 'certificates.pem')
  const bundle = `${TD}=${p('root', 'ca.pem')}`
  await writeFile(p('garbage.pem'), '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n')
  await writeFile(p('garbage.yaml'), 'a: [unclosed\n')
  await writeFile(p('other.json'), '{"hello": "world"}')
  await mkdir(p('mixed'))
  await writeFile(p('mixed', 'ca.pem'), await readFile(p('sub', 'ca.pem'), 'utf8'))
  await writeFile(p('mixed', 'ca.key.pem'), await readFile(p('root', 'ca.key.pem'), 'utf8'))
  const verify = (o: Partial<VerifyCommandOptions>) => async (out: CommandOutput) => await runVerify({ chain, bundle: [], trustConfig: [], role: 'server', ...o }, out)
  const issue = (o: Partial<SvidIssueOptions>) => async (out: CommandOutput) => await runSvidIssue({ ca: p('sub'), id: ID, out: p('x'), lifetime: '86400s', dns: [], ...o }, out)
  const ca = (o: Partial<CaCommandOptions>) => async (out: CommandOutput) => await runCaCreate({ out: p('x'), lifetime: '315360000s', ...o }, out)
  const cases: Array<[string, (out: CommandOutput) => Promise<number>, string, RegExp]> = [
    ['bundle without =', verify({ bundle: ['nope'] }), 'ERR_SPIFFE_CLI_BUNDLE_ARG', /TRUST_DOMAIN=PEM_FILE, got "nope"/],
    ['bad trust domain', verify({ bundle: [`Bad_TD=${p('root', 'ca.pem')}`] }), 'ERR_SPIFFE_TRUST_DOMAIN_', /^--bundle "Bad_TD=/],
    ['bundle file missing', verify({ bundle: [`${TD}=${p('nope.pem')}`] }), 'ERR_SPIFFE_CLI_READ_FILE', /cannot read trust bundle ".*nope\.pem": ENOENT/],
    ['bundle file is a key', verify({ bundle: [`${TD}=${p('creds', 'private_key.pem')}`] }), 'ERR_SPIFFE_BUNDLE_UNEXPECTED_PEM_BLOCK', /private_key\.pem.*"PRIVATE KEY"/],
    ['domain given twice', verify({ bundle: [bundle], trustConfig: [p('trust-config.yaml')] }), 'ERR_SPIFFE_BUNDLE_DUPLICATE_TRUST_DOMAIN', /demo-pool/],
    ['trust config not YAML', verify({ trustConfig: [p('garbage.yaml')] }), 'ERR_SPIFFE_CLI_TRUST_CONFIG_SYNTAX', /garbage\.yaml" is neither YAML nor JSON/],
    ['trust config of no known shape', verify({ trustConfig: [p('other.json')] }), 'ERR_SPIFFE_CLI_TRUST_CONFIG_SHAPE', /other\.json" is not a trust config/],
    ['missing chain file', verify({ bundle: [bundle], chain: p('nope.pem') }), 'ERR_SPIFFE_CLI_READ_FILE', /cannot read certificate chain ".*nope\.pem"/],
    ['garbage chain', verify({ bundle: [bundle], chain: p('garbage.pem') }), 'ERR_SPIFFE_CLI_BAD_CERTIFICATE', /garbage\.pem": certificate 1 does not parse/],
    ['chain file without certificates', verify({ bundle: [bundle], chain: p('other.json') }), 'ERR_SPIFFE_CLI_NO_CERTIFICATE', /other\.json" holds no certificate: no pem "CERTIFICATE" block and no der certificate/],
    ['bad role', verify({ bundle: [bundle], role: 'peer' }), 'ERR_SPIFFE_CLI_ROLE', /server or client, got "peer"/],
    ['bad --now', verify({ bundle: [bundle], now: 'tomorrow' }), 'ERR_SPIFFE_CLI_NOW', /ISO 8601/],
    ['invalid --id', issue({ id: 'spiffe://UPPER/x' }), 'ERR_SPIFFE_TRUST_DOMAIN_', /^--id: /],
    ['--id without a path', issue({ id: `spiffe://${TD}` }), 'ERR_SPIFFE_CLI_ID_HAS_NO_PATH', /needs a path/],
    ['bad lifetime', issue({ lifetime: '1d' }), 'ERR_SPIFFE_CLI_LIFETIME', /"24h" or "1m30s", got "1d"/],
    ['missing CA dir', issue({ ca: p('none') }), 'ERR_SPIFFE_CLI_READ_FILE', /cannot read ca certificate ".*none\/ca\.pem"/],
    ['CA key of another CA', issue({ ca: p('mixed') }), 'ERR_SPIFFE_PKI_KEY_MISMATCH', /mixed.*does not match/],
    ['unknown key algorithm', ca({ keyAlgorithm: 'ed25519' }), 'ERR_SPIFFE_PKI_UNKNOWN_KEY_ALGORITHM', /^--key-algorithm: .*ECDSA_P256.*ec-p256-sha256/],
    ['bad max chain length', ca({ maxChainLength: '-1' }), 'ERR_SPIFFE_CLI_MAX_CHAIN_LENGTH', /non-negative integer/],
    ['bad subject', ca({ subject: 'Demo Root' }), 'ERR_SPIFFE_PKI_BAD_SUBJECT', /"Demo Root" is not a distinguished name/],
    ['sub under pathLen 0', ca({ parent: p('sub') }), 'ERR_SPIFFE_PKI_PATH_LENGTH', /pathLen 0/],
    ['CA exists', ca({ out: p('root') }), 'ERR_SPIFFE_CLI_CA_EXISTS', /--force/],
    ['inspect a file that is neither PEM nor DER', async (out) => await runInspect({ file: p('trust_bundles.json') }, out), 'ERR_SPIFFE_CLI_NO_CERTIFICATE', /trust_bundles\.json" holds no certificate/]
  ]
  for (const [name, fn, code, message] of cases) {
    const r = await inProcess(fn)
    t.ok(r.error?.code.startsWith(code), `${name}: ${r.error?.code ?? `no error, exit ${r.code}`}`)
    t.match(r.error?.message, message, name)
    t.equal(r.stdout, '', `${name}: no verdict printed`)
  }
  t.notOk(existsSync(p('x')), 'a failed command writes nothing')
})

t.test('re-issuing replaces the files and restores the key mode', async (t) => {
  const before = await readFile(p('creds', 'certificates.pem'), 'utf8')
  await chmod(p('creds', 'private_key.pem'), 0o644)
  const r = await cli('svid', 'issue', '--ca', p('root'), '--id', ID, '--out', p('creds'), '--lifetime', '3600s', '--key-algorithm', 'RSA_2048')
  t.equal(r.code, 0, r.stderr)
  t.equal(await mode(p('creds', 'private_key.pem')), '600')
  const after = await readFile(p('creds', 'certificates.pem'), 'utf8')
  t.not(after, before)
  const certs = certsIn(after)
  t.equal(certs.length, 1, 'issued by the root: no intermediates')
  t.equal(certs[0]?.publicKey.asymmetricKeyDetails?.modulusLength, 2048)
  t.same((await readdir(p('creds'))).sort(), ['ca_certificates.pem', 'certificates.pem', 'private_key.pem'])
})
