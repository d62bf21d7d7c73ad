import t, { type Test, type TestOpts } from 'tap'
import type { BuiltPlugins } from '@tapjs/test'
import { execFile } from 'node:child_process'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { fileURLToPath } from 'node:url'
import type { CommandOutput } from '../src/process/command-output.ts'
import { runVerify } from '../src/commands/verify/verify-chain.ts'
import {
  KEY_ALGORITHMS, createRootCa, createSubordinateCa, generateKeys, issueSvidCertificate, type KeyAlgorithm
} from '../src/pki/index.ts'

// Interop in both directions with the OpenSSL 3 command line: certificates our CA issues must
// satisfy `openssl verify`, and certificates `openssl` makes must get the verdict the X509-SVID
// spec asks for from our `verify` command.

const REPO = fileURLToPath(new URL('..', import.meta.url))
const dir = await mkdtemp(join(tmpdir(), 'spiffe-lb-interop-'))
t.teardown(async () => { await rm(dir, { recursive: true, force: true }) })

interface Run { code: number, stdout: string, stderr: string }
async function run (cmd: string, args: readonly string[]): Promise<Run> {
  return await new Promise((resolve) => {
    execFile(cmd, args, { cwd: REPO }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : 1
      resolve({ code, stdout, stderr })
    })
  })
}
const openssl = async (...args: string[]): Promise<Run> => await run('openssl', args)
const cli = async (...args: string[]): Promise<Run> => await run(process.execPath, ['src/cli/main.ts', ...args])
async function inProcess (fn: (out: CommandOutput) => Promise<number>): Promise<Run> {
  const text = { stdout: '', stderr: '' }
  const sink = (k: 'stdout' | 'stderr'): Writable => new Writable({ write (chunk, _enc, cb) { text[k] += String(chunk); cb() } })
  const code = await fn({ stdout: sink('stdout'), stderr: sink('stderr') })
  return { code, ...text }
}
const file = async (name: string, text: string): Promise<string> => {
  const path = join(dir, name)
  await writeFile(path, text)
  return path
}

const ID = 'spiffe://example.org/ns/lb/sa/frontend'
const DAY = 86_400_000

/** The type tap passes to a subtest callback. */
type Tap = Test<BuiltPlugins, TestOpts> & BuiltPlugins

function checkLeafText (t: Tap, text: string): void {
  t.match(text, /X509v3 Subject Alternative Name: critical\n\s+URI:spiffe:\/\/example\.org\/ns\/lb\/sa\/frontend\n/, 'URI SAN under a critical SAN')
  t.match(text, /X509v3 Basic Constraints: critical\n\s+CA:FALSE\n/)
  t.match(text, /X509v3 Key Usage: critical\n\s+Digital Signature(, Key Encipherment)?\n/)
  t.match(text, /X509v3 Extended Key Usage: ?\n\s+TLS Web Server Authentication, TLS Web Client Authentication\n/)
  t.match(text, /Subject: ?\n/, 'empty subject')
}

// RSA_4096 takes about a second per key: its row uses one key for root, subordinate and leaf.
const rsa4096 = await generateKeys('RSA_4096')

for (const alg of KEY_ALGORITHMS) {
  t.test(`openssl verifies what our CA issues with ${alg}`, async (t) => {
    const given = alg === 'RSA_4096' ? { privateKey: rsa4096.privateKey } : {}
    const keyOpts = (a: KeyAlgorithm): { keyAlgorithm?: KeyAlgorithm, publicKey?: typeof rsa4096.publicKey } =>
      a === 'RSA_4096' ? { publicKey: rsa4096.publicKey } : { keyAlgorithm: a }
    const root = await createRootCa({ subject: `CN=Root ${alg}, O=Interop`, keyAlgorithm: alg, maxChainLength: 1, ...given })
    const sub = await createSubordinateCa(root, { subject: `CN=Sub ${alg}, O=Interop`, keyAlgorithm: alg, ...given })
    const direct = await issueSvidCertificate(root, { uri: ID, lifetimeMs: DAY, ...keyOpts(alg) })
    const viaSub = await issueSvidCertificate(sub, { uri: ID, lifetimeMs: DAY, ...keyOpts(alg) })
    const rootPem = await file(`${alg}-root.pem`, root.certPem)
    const interPem = await file(`${alg}-inter.pem`, sub.chainPem)
    const leaf1 = await file(`${alg}-leaf1.pem`, direct.certPem)
    const leaf2 = await file(`${alg}-leaf2.pem`, viaSub.certPem)

    for (const purpose of ['sslserver', 'sslclient']) {
      const a = await openssl('verify', '-purpose', purpose, '-CAfile', rootPem, leaf1)
      t.equal(a.code, 0, `root -> leaf (${purpose}): ${a.stdout}${a.stderr}`)
      t.match(a.stdout, `${leaf1}: OK`)
      const b = await openssl('verify', '-purpose', purpose, '-CAfile', rootPem, '-untrusted', interPem, leaf2)
      t.equal(b.code, 0, `root -> sub -> leaf (${purpose}): ${b.stdout}${b.stderr}`)
    }
    const noInter = await openssl('verify', '-CAfile', rootPem, leaf2)
    t.not(noInter.code, 0, 'without the intermediate openssl cannot build the path (the test can fail)')

    for (const leaf of [leaf1, leaf2]) checkLeafText(t, (await openssl('x509', '-text', '-noout', '-in', leaf)).stdout)
    const rootText = (await openssl('x509', '-text', '-noout', '-in', rootPem)).stdout
    t.match(rootText, /X509v3 Basic Constraints: critical\n\s+CA:TRUE, pathlen:1\n/)
    t.match(rootText, /X509v3 Key Usage: critical\n\s+Certificate Sign, CRL Sign\n/)
    const subText = (await openssl('x509', '-text', '-noout', '-in', interPem)).stdout
    t.match(subText, /CA:TRUE, pathlen:0\n/)
    t.match(subText, alg === 'ECDSA_P384' ? /Signature Algorithm: ecdsa-with-SHA384/ : alg.startsWith('RSA') ? /sha256WithRSAEncryption/ : /ecdsa-with-SHA256/)
  })
}

t.test('our verify command judges certificates made by openssl', async (t) => {
  // A minimal config so `openssl req -x509` adds no default extensions (v3_ca) of its own.
  const cnf = await file('min.cnf', '[req]\ndistinguished_name=dn\nprompt=no\n[dn]\n')
  const make = async (name: string, subj: string, ext: string[], signer?: string): Promise<string> => {
    const out = join(dir, `${name}.pem`)
    const r = await openssl('req', '-x509', '-config', cnf, '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
      '-keyout', join(dir, `${name}.key`), '-out', out, '-subj', subj, '-days', '1',
      ...(signer === undefined ? [] : ['-CA', join(dir, `${signer}.pem`), '-CAkey', join(dir, `${signer}.key`)]),
      ...ext.flatMap((e) => ['-addext', e]))
    t.equal(r.code, 0, `openssl made ${name}: ${r.stderr}`)
    return out
  }
  const CA = ['basicConstraints=critical,CA:TRUE', 'keyUsage=critical,keyCertSign,cRLSign', 'subjectKeyIdentifier=hash']
  const LEAF = ['basicConstraints=critical,CA:FALSE', 'keyUsage=critical,digitalSignature', 'extendedKeyUsage=serverAuth,clientAuth']
  const ca = await make('ossl-ca', '/CN=OpenSSL CA/O=Interop', CA)
  await make('ossl-inter', '/CN=OpenSSL Intermediate', CA, 'ossl-ca')
  await make('ossl-other-ca', '/CN=OpenSSL CA/O=Interop', CA)

  const cases: Array<[string, string, string[], string | undefined, string[], number, RegExp]> = [
    ['spec leaf, empty subject', '/', ['subjectAltName=critical,URI:spiffe://example.org/w', ...LEAF], 'ossl-ca', [], 0, /^accept spiffe:\/\/example\.org\/w\n$/],
    ['leaf with a subject and no EKU', '/CN=w', ['subjectAltName=URI:spiffe://example.org/w', 'basicConstraints=critical,CA:FALSE', 'keyUsage=critical,digitalSignature'], 'ossl-ca', [], 0, /^accept spiffe:\/\/example\.org\/w\n$/],
    ['clientAuth-only leaf as a client', '/', ['subjectAltName=critical,URI:spiffe://example.org/c', ...LEAF.slice(0, 2), 'extendedKeyUsage=clientAuth'], 'ossl-ca', ['--role', 'client'], 0, /^accept /],
    ['clientAuth-only leaf as a server', '/', ['subjectAltName=critical,URI:spiffe://example.org/c2', ...LEAF.slice(0, 2), 'extendedKeyUsage=clientAuth'], 'ossl-ca', ['--role', 'server'], 1, /^reject: .*\(ERR_SPIFFE_SVID_EKU_NO_SERVER_AUTH\)\n/],
    ['a CA certificate as leaf', '/CN=ca-leaf', ['subjectAltName=URI:spiffe://example.org/w', ...CA], 'ossl-ca', [], 1, /^reject: .*\(ERR_SPIFFE_SVID_IS_CA\)\n/],
    ['two URI SANs', '/CN=two', ['subjectAltName=URI:spiffe://example.org/a,URI:spiffe://example.org/b', ...LEAF], 'ossl-ca', [], 1, /^reject: .*\(ERR_SPIFFE_SVID_MULTIPLE_URI_SANS\)\n/],
    ['keyCertSign on a leaf', '/', ['subjectAltName=critical,URI:spiffe://example.org/w', 'basicConstraints=critical,CA:FALSE', 'keyUsage=critical,digitalSignature,keyCertSign'], 'ossl-ca', [], 1, /^reject: .*\(ERR_SPIFFE_SVID_KEY_CERT_SIGN\)\n/],
    ['no URI SAN', '/CN=dns-only', ['subjectAltName=DNS:w.example', ...LEAF], 'ossl-ca', [], 1, /^reject: .*\(ERR_SPIFFE_SVID_NO_URI_SAN\)\n/],
    ['https URI instead of spiffe', '/CN=w', ['subjectAltName=URI:https://example.org/w', ...LEAF], 'ossl-ca', [], 1, /^reject: .*\(ERR_SPIFFE_SVID_URI_NOT_SPIFFE\)\n/],
    ['self-signed leaf', '/', ['subjectAltName=critical,URI:spiffe://example.org/w', ...LEAF], undefined, [], 1, /^reject: .*\(ERR_SPIFFE_VERIFY_/],
    ['leaf of another trust domain', '/', ['subjectAltName=critical,URI:spiffe://other.org/w', ...LEAF], 'ossl-ca', [], 1, /^reject: .*\(ERR_SPIFFE_VERIFY_NO_BUNDLE\)\n/],
    ['leaf signed by a look-alike CA', '/', ['subjectAltName=critical,URI:spiffe://example.org/w', ...LEAF], 'ossl-other-ca', [], 1, /^reject: .*\(ERR_SPIFFE_VERIFY_/]
  ]
  // Verdicts through the verify command's run function: a CLI process costs about a second of
  // CPU, so only the last case below goes through a real process.
  for (const [i, [name, subj, ext, signer, args, code, verdict]] of cases.entries()) {
    const leaf = await make(`case${i}`, subj, ext, signer)
    const role = args[1] === 'client' ? 'client' : 'server'
    const r = await inProcess(async (out) => await runVerify({ chain: leaf, bundle: [`example.org=${ca}`], trustConfig: [], role }, out))
    t.equal(r.code, code, `${name}: exit ${code}`)
    t.match(r.stdout, verdict, name)
  }

  const viaInter = await make('via-inter', '/', ['subjectAltName=critical,URI:spiffe://example.org/deep', ...LEAF], 'ossl-inter')
  const chain = await file('via-inter-chain.pem', await readFile(viaInter, 'utf8') + await readFile(join(dir, 'ossl-inter.pem'), 'utf8'))
  const ok = await cli('verify', '--bundle', `example.org=${ca}`, chain)
  t.equal(ok.code, 0, `openssl intermediate chain: ${ok.stdout}${ok.stderr}`)
  t.equal(ok.stdout, 'accept spiffe://example.org/deep\n')
  const leafOnly = await inProcess(async (out) => await runVerify({ chain: viaInter, bundle: [`example.org=${ca}`], trustConfig: [], role: 'server' }, out))
  t.equal(leafOnly.code, 1, 'without its intermediate the leaf does not chain')
  t.match(leafOnly.stdout, /^reject: /)
})
