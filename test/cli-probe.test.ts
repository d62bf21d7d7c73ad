// `spiffe-lb probe` against `openssl s_server` serving good and bad SVIDs made at test time: the
// verdict with every broken rule, the TLS parameters, resumption, and a backend refusing us.
import t from 'tap'
import { execFile, spawn } from 'node:child_process'
import { writeFile } from 'node:fs/promises'
import net, { type AddressInfo } from 'node:net'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Writable } from 'node:stream'
import { isSpiffeLbError } from '../src/internal/errors.ts'
import { createCrl } from '../src/pki/index.ts'
import { runProbe, type ProbeCommandOptions } from '../src/commands/probe/run-probe.ts'
import { runVerify } from '../src/commands/verify/verify-chain.ts'
import type { ProbeReport } from '../src/tls/probe.ts'
import { makeDomain, makeRawCert, makeSvid, tempDir } from './tls-fixtures.ts'

const REPO = fileURLToPath(new URL('..', import.meta.url))
const [a, b, evil] = await Promise.all([makeDomain('a.test'), makeDomain('b.test'), makeDomain('evil.test')])
const dir = await tempDir(t)
const file = async (name: string, text: string): Promise<string> => { const p = join(dir, name); await writeFile(p, text, { mode: 0o600 }); return p }

// Our side: the proxy's SVID in a.test; we trust a.test and b.test.
const lb = await makeSvid(a, '/lb/frontend')
const ourCert = await file('lb-chain.pem', lb.chainPem())
const ourKey = await file('lb-key.pem', lb.privateKeyPem())
const aRoot = await file('a-root.pem', a.bundle.toPem())
const bRoot = await file('b-root.pem', b.bundle.toPem())
const evilRoot = await file('evil-root.pem', evil.bundle.toPem())
const trust = ['--bundle', `a.test=${aRoot}`, '--bundle', `b.test=${bRoot}`]

/** Starts `openssl s_server` with `chain`/`key`, requiring a client certificate issued under `clientCa`. */
async function sServer (name: string, chain: string, key: string, clientCa: string, extra: string[] = []): Promise<number> {
  const cert = await file(`${name}-chain.pem`, chain)
  const keyFile = await file(`${name}-key.pem`, key)
  const proc = spawn('openssl', ['s_server', '-accept', '127.0.0.1:0', '-cert', cert, '-key', keyFile, '-CAfile', clientCa, '-Verify', '1', '-www', ...extra],
    { stdio: ['pipe', 'pipe', 'pipe'] })
  let output = ''
  t.teardown(() => { proc.kill('SIGTERM') })
  return await new Promise((resolve, reject) => {
    const onData = (d: Buffer): void => {
      output += d.toString()
      const m = /ACCEPT 127\.0\.0\.1:(\d+)/.exec(output)
      if (m !== null) resolve(Number(m[1]))
    }
    proc.stdout.on('data', onData)
    proc.stderr.on('data', onData)
    proc.once('exit', () => { reject(new Error(`s_server ${name} exited: ${output}`)) })
  })
}

interface Run { code: number, stdout: string, stderr: string }
/** The real CLI, one process (exit code as the shell sees it). */
async function probeCli (...args: string[]): Promise<Run> {
  return await new Promise((resolve) => {
    execFile(process.execPath, ['src/cli/main.ts', 'probe', ...args], { cwd: REPO }, (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : -1, stdout, stderr })
    })
  })
}
/** The same command through the program in this process (the machine is shared: fewer node start-ups). */
async function probe (...args: string[]): Promise<Run> {
  const text = { stdout: '', stderr: '' }
  const sink = (k: 'stdout' | 'stderr'): Writable => new Writable({ write (chunk, _e, cb) { text[k] += String(chunk); cb() } })
  let code = 0
  const [target, ...rest] = args
  const opts = { bundle: [] as string[], trustConfig: [] as string[], timeout: '10000' } as Omit<ProbeCommandOptions, 'target'>
  for (let i = 0; i < rest.length; i++) {
    const flag = rest[i]
    const value = rest[i + 1] ?? ''
    if (flag === '--json') { opts.json = true; continue }
    i++
    if (flag === '--bundle') opts.bundle.push(value)
    else if (flag === '--cert') opts.cert = value
    else if (flag === '--key') opts.key = value
    else if (flag === '--crl') opts.crl = [...(opts.crl ?? []), value]
    else throw new Error(`test helper does not know ${flag ?? ''}`)
  }
  try {
    code = await runProbe({ target: target ?? '', ...opts }, { stdout: sink('stdout'), stderr: sink('stderr') })
  } catch (err) {
    if (!isSpiffeLbError(err)) throw err
    text.stderr += `spiffe-lb: ${err.code}: ${err.message}\n`
    code = 2
  }
  return { code, ...text }
}
const codesOf = (text: string): string[] => [...text.matchAll(/^reject: .*\((ERR_[A-Z_]+)\)$/gm)].map((m) => m[1] ?? '')

const good = await makeSvid(b, '/backend/good')
// A leaf of b.test with four faults: keyCertSign without digitalSignature, clientAuth only, and signed by evil.test's CA.
const bad = await makeRawCert(evil.ca, {
  uris: ['spiffe://b.test/backend/bad'], keyUsage: ['keyCertSign', 'keyAgreement'], extKeyUsage: ['clientAuth'], notBefore: Date.now() - 60_000
})
const [goodPort, badPort, pickyPort, v12Port] = await Promise.all([
  sServer('good', good.chainPem(), good.privateKeyPem(), aRoot),
  sServer('bad', bad.chainPem, bad.keyPem, aRoot),
  // demands a client cert of evil.test (s_server only logs a failed client check without -verify_return_error)
  sServer('picky', good.chainPem(), good.privateKeyPem(), evilRoot, ['-verify_return_error']),
  sServer('picky12', good.chainPem(), good.privateKeyPem(), evilRoot, ['-verify_return_error', '-tls1_2'])
])

t.test('a good backend: accept, TLS parameters, chain, bundle, resumption; exit 0', async (t) => {
  const r = await probeCli(`127.0.0.1:${goodPort}`, '--cert', ourCert, '--key', ourKey, ...trust)
  t.equal(r.code, 0, r.stdout + r.stderr)
  t.match(r.stdout, /tcp connect:\s+[\d.]+ ms/)
  t.match(r.stdout, /tls handshake:\s+[\d.]+ ms/)
  t.match(r.stdout, /tls:\s+TLSv1\.3, group \S+, cipher TLS_\w+, alpn -/)
  t.match(r.stdout, /\[0\] serial [0-9a-f]+\n\s+spiffe id: spiffe:\/\/b\.test\/backend\/good\n\s+issuer:\s+CN=b\.test root/)
  t.match(r.stdout, /key:\s+EC P-256/)
  t.match(r.stdout, /trust domain:\s+b\.test/)
  t.match(r.stdout, /bundle used:\s+b\.test \(CN=b\.test root/)
  t.match(r.stdout, /resumption:\s+a second connection resumed the session/)
  t.match(r.stdout, /\naccept spiffe:\/\/b\.test\/backend\/good\n$/)
})

t.test('a multi-fault leaf: every fault named, each with its code; exit 1', async (t) => {
  const r = await probe(`127.0.0.1:${badPort}`, '--cert', ourCert, '--key', ourKey, ...trust)
  t.equal(r.code, 1, r.stdout + r.stderr)
  t.same(codesOf(r.stdout), ['ERR_SPIFFE_SVID_KEY_CERT_SIGN', 'ERR_SPIFFE_SVID_NO_DIGITAL_SIGNATURE',
    'ERR_SPIFFE_SVID_EKU_NO_SERVER_AUTH', 'ERR_SPIFFE_VERIFY_NO_PATH'])
  t.notMatch(r.stdout, /resumption:/, 'no resumption attempt for a rejected backend')
})

t.test('the same words as verify', async (t) => {
  const chain = await file('bad-presented.pem', bad.chainPem)
  const [p, v] = await Promise.all([
    probe(`127.0.0.1:${badPort}`, '--cert', ourCert, '--key', ourKey, ...trust),
    (async () => {
      let stdout = ''
      const sink = new Writable({ write (chunk, _e, cb) { stdout += String(chunk); cb() } })
      await runVerify({ chain, bundle: [`a.test=${aRoot}`, `b.test=${bRoot}`], trustConfig: [], role: 'server' }, { stdout: sink, stderr: sink })
      return stdout
    })()
  ])
  const rejects = (s: string): string[] => s.split('\n').filter((l) => l.startsWith('reject: '))
  t.same(rejects(p.stdout), rejects(v))
  t.equal(rejects(v).length, 4)
})

t.test('a backend demanding a client cert of another domain refuses us (TLS 1.3 and 1.2); exit 1', async (t) => {
  for (const port of [pickyPort, v12Port]) {
    const r = await probe(`127.0.0.1:${port}`, '--cert', ourCert, '--key', ourKey, ...trust, '--json')
    t.equal(r.code, 1, r.stdout + r.stderr)
    const report = JSON.parse(r.stdout) as ProbeReport
    t.equal(report.verdict, 'reject')
    t.equal(report.refusedUs?.alert, 'unknown ca', 'the alert the backend sent')
    // TLS 1.3: the client's handshake ends first and the alert comes after it, on the request.
    const code = port === pickyPort ? 'ERR_SPIFFE_TLS_SVID_REFUSED_AFTER_HANDSHAKE' : 'ERR_SPIFFE_TLS_REFUSED_BY_PEER'
    t.ok(report.failures.some((f) => f.code === code), JSON.stringify(report.failures))
    t.notOk(report.failures.some((f) => f.code.startsWith('ERR_SPIFFE_VERIFY_') || f.code.startsWith('ERR_SPIFFE_SVID_')), 'its own svid is fine')
  }
  const text = await probe(`127.0.0.1:${pickyPort}`, '--cert', ourCert, '--key', ourKey, ...trust)
  t.match(text.stdout, /backend refused our certificate: alert "unknown ca"/)
})

t.test('--crl: a revoked backend is rejected with its own code', async (t) => {
  const crl = await file('b.crl.pem', await createCrl(b.ca, [{ serialHex: good.leaf.serialNumber, revokedAt: Date.now() }], Date.now() - 60_000, Date.now() + 3_600_000))
  const r = await probe(`127.0.0.1:${goodPort}`, '--cert', ourCert, '--key', ourKey, ...trust, '--crl', crl)
  t.equal(r.code, 1, r.stdout + r.stderr)
  t.same(codesOf(r.stdout), ['ERR_SPIFFE_VERIFY_REVOKED'])
})

t.test('--json for scripts', async (t) => {
  const r = await probe(`127.0.0.1:${goodPort}`, '--cert', ourCert, '--key', ourKey, ...trust, '--json')
  t.equal(r.code, 0)
  const report = JSON.parse(r.stdout) as ProbeReport
  t.equal(report.verdict, 'accept')
  t.equal(report.spiffeId, 'spiffe://b.test/backend/good')
  t.equal(report.tls?.version, 'TLSv1.3')
  t.equal(report.chain.length, 1)
  t.same(report.resumption, { offered: true, resumed: true })
  t.same(report.failures, [])
})

t.test('connection and usage errors: exit 2', async (t) => {
  const server = net.createServer()
  await new Promise<void>((resolve) => { server.listen(0, '127.0.0.1', resolve) })
  const closedPort = (server.address() as AddressInfo).port
  await new Promise<void>((resolve) => { server.close(() => { resolve() }) })
  const [refused, noIdentity, badTarget] = await Promise.all([
    probe(`127.0.0.1:${closedPort}`, '--cert', ourCert, '--key', ourKey, ...trust),
    probeCli(`127.0.0.1:${goodPort}`, ...trust),
    probe('127.0.0.1', '--cert', ourCert, '--key', ourKey, ...trust)
  ])
  t.equal(refused.code, 2)
  t.match(refused.stdout, /reject: connection to backend 127\.0\.0\.1:\d+ failed: .*ECONNREFUSED.* \(ERR_SPIFFE_TLS_CONNECT_FAILED\)/)
  t.equal(noIdentity.code, 2)
  t.match(noIdentity.stderr, /ERR_SPIFFE_CLI_PROBE_IDENTITY/)
  t.equal(badTarget.code, 2)
  t.match(badTarget.stderr, /ERR_SPIFFE_CLI_PROBE_TARGET: address must be "host:port"/)
})
