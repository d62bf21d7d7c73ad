import t from 'tap'
import { isSpiffeLbError } from '../../internal/errors.ts'
import { parseDurationFlag } from '../flags.ts'
import { DEFAULT_FLAGS, QUICK_FLAGS, knownGroup, parseHandshakeFlags } from './handshake-options.ts'
import type { HandshakeFlags } from './handshake-options.ts'

t.test('defaults: the full matrix ', async (t) => {
  const o = parseHandshakeFlags({})
  t.same(o.keyAlgorithms, ['ECDSA_P256', 'ECDSA_P384', 'RSA_2048', 'RSA_3072', 'RSA_4096'])
  t.same(o.chainDepths, [1, 2])
  t.same(o.tlsVersions, ['TLSv1.3', 'TLSv1.2'])
  t.same(o.groups, DEFAULT_FLAGS.groups.split(','))
  t.same(o.modes, ['full', 'resumed'])
  t.same([o.concurrency, o.durationMs, o.warmupMs, o.sliceMs], [8, 3000, 1000, 250])
  t.same(o.target, { kind: 'spiffe-lb' })
  t.equal(o.quick, false)
})

t.test('--quick fills only the flags not given', async (t) => {
  const q = parseHandshakeFlags({ quick: true })
  t.same(q.keyAlgorithms, QUICK_FLAGS.keyAlgorithms.split(','))
  t.same(q.groups, ['X25519'])
  t.equal(q.durationMs, 2400)
  t.equal(q.quick, true)
  const overridden = parseHandshakeFlags({ quick: true, groups: 'P-256, X25519 ,P-256', duration: '1.5s' })
  t.same(overridden.groups, ['P-256', 'X25519'], 'trimmed and de-duplicated')
  t.equal(overridden.durationMs, 1500)
})

t.test('durations', async (t) => {
  for (const [text, ms] of [['250ms', 250], ['3s', 3000], ['1.5s', 1500], ['2m', 120_000], ['0ms', 0]] as const) {
    t.equal(parseDurationFlag('--x', text), ms, text)
  }
})

t.test('groups are checked against this openssl', async (t) => {
  t.ok(knownGroup('X25519'))
  t.ok(knownGroup('P-256'))
  t.notOk(knownGroup('NOPE'))
  t.notOk(knownGroup('X25519:P-256'), 'one group per item, no openssl list syntax')
})

t.test('--target HOST:PORT takes the client credentials', async (t) => {
  const o = parseHandshakeFlags({ target: '127.0.0.1:8443', cert: 'c.pem', key: 'k.pem', bundle: ['td.example=root.pem'] })
  t.same(o.target, { kind: 'address', host: '127.0.0.1', port: 8443, cert: 'c.pem', key: 'k.pem', bundles: [{ trustDomain: 'td.example', file: 'root.pem' }] })
  const v6 = parseHandshakeFlags({ target: '[::1]:8443', cert: 'c.pem', key: 'k.pem', bundle: ['td.example=root.pem'] })
  t.match(v6.target, { kind: 'address', host: '::1', port: 8443 })
  t.same(parseHandshakeFlags({ target: 'openssl' }).target, { kind: 'openssl' })
})

const bad: Array<[string, HandshakeFlags, string]> = [
  ['key algorithm', { keyAlgorithms: 'ECDSA_P256,DSA' }, '--key-algorithms "DSA"'],
  ['empty list', { modes: ' , ' }, '--modes'],
  ['chain depth', { chainDepths: '3' }, '--chain-depths "3"'],
  ['tls version', { tlsVersions: 'TLSv1.1' }, '--tls-versions "TLSv1.1"'],
  ['group', { groups: 'X25519,secp999' }, '--groups "secp999"'],
  ['mode', { modes: 'pooled' }, '--modes "pooled"'],
  ['concurrency', { concurrency: '0' }, '--concurrency "0"'],
  ['concurrency text', { concurrency: '8x' }, '--concurrency "8x"'],
  ['duration unit', { duration: '3' }, '--duration "3"'],
  ['duration shorter than two slices', { duration: '300ms', slice: '250ms' }, '--duration "300ms"'],
  ['slice too short', { slice: '1ms' }, '--slice "1ms"'],
  ['target', { target: 'nginx' }, '--target "nginx"'],
  ['address without credentials', { target: '127.0.0.1:443' }, '--target "127.0.0.1:443"'],
  ['bundle syntax', { target: '127.0.0.1:443', cert: 'c', key: 'k', bundle: ['root.pem'] }, '--bundle "root.pem"'],
  ['cert with a started target', { cert: 'c.pem' }, '--cert "c.pem"']
]
for (const [name, flags, quoted] of bad) {
  t.test(`bad option: ${name}`, async (t) => {
    let caught: unknown
    try { parseHandshakeFlags(flags) } catch (err) { caught = err }
    t.ok(isSpiffeLbError(caught, 'ERR_SPIFFE_BENCH_BAD_OPTION'), 'coded error')
    t.equal((caught as Error).message.slice(0, quoted.length), quoted, 'names the flag and quotes the value')
  })
}
