import t from 'tap'
import { SpiffeId } from './spiffe-id.ts'
import { TrustDomain } from './trust-domain.ts'
import { MAX_SPIFFE_ID_BYTES } from './id-rules.ts'

const valid: Array<[string, string, string, string]> = [
  // input, trust domain, path, canonical
  ['spiffe://example.org', 'example.org', '', 'spiffe://example.org'],
  ['spiffe://example.org/ns/prod/sa/web', 'example.org', '/ns/prod/sa/web', 'spiffe://example.org/ns/prod/sa/web'],
  ['spiffe://a_b-c.1.2.3.4/A-z_0.9', 'a_b-c.1.2.3.4', '/A-z_0.9', 'spiffe://a_b-c.1.2.3.4/A-z_0.9'],
  ['spiffe://example.org/...', 'example.org', '/...', 'spiffe://example.org/...'],
  ['spiffe://example.org/.hidden/x.', 'example.org', '/.hidden/x.', 'spiffe://example.org/.hidden/x.'],
  // SPIFFE-ID §2.4: the scheme is case-insensitive; we normalize it
  ['SPIFFE://example.org/Path', 'example.org', '/Path', 'spiffe://example.org/Path'],
  ['Spiffe://pool.global.123.workload.id.goog/ns/lb/sa/fe', 'pool.global.123.workload.id.goog', '/ns/lb/sa/fe',
    'spiffe://pool.global.123.workload.id.goog/ns/lb/sa/fe']
]

for (const [input, td, path, canonical] of valid) {
  t.test(`accepts ${input}`, async (t) => {
    const id = SpiffeId.fromString(input)
    t.equal(id.trustDomain.name, td)
    t.equal(id.path, path)
    t.equal(id.toString(), canonical)
    t.equal(JSON.stringify({ id }), JSON.stringify({ id: canonical }))
  })
}

const invalid: Array<[string, string, string]> = [
  // input, code, fragment of the message
  ['', 'ERR_SPIFFE_ID_EMPTY', 'must not be empty'],
  ['example.org/x', 'ERR_SPIFFE_ID_SCHEME', 'must start with "spiffe://"'],
  ['https://example.org/x', 'ERR_SPIFFE_ID_SCHEME', '"https://example.org/x"'],
  ['spiffe:/example.org/x', 'ERR_SPIFFE_ID_SCHEME', 'spiffe:/example.org/x'],
  ['spiffe:example.org', 'ERR_SPIFFE_ID_SCHEME', 'spiffe:example.org'],
  [' spiffe://example.org/x', 'ERR_SPIFFE_ID_SCHEME', ' spiffe://'],
  ['spiffe://', 'ERR_SPIFFE_TRUST_DOMAIN_EMPTY', 'must not be empty'],
  ['spiffe:///path', 'ERR_SPIFFE_TRUST_DOMAIN_EMPTY', '"spiffe:///path"'],
  ['spiffe://user@example.org/x', 'ERR_SPIFFE_TRUST_DOMAIN_USERINFO', 'userinfo'],
  ['spiffe://user:pw@example.org/x', 'ERR_SPIFFE_TRUST_DOMAIN_USERINFO', 'userinfo'],
  ['spiffe://example.org:8443/x', 'ERR_SPIFFE_TRUST_DOMAIN_PORT', '"example.org:8443" in "spiffe://example.org:8443/x"'],
  ['spiffe://example.org:/x', 'ERR_SPIFFE_TRUST_DOMAIN_PORT', 'port'],
  ['spiffe://[::1]/x', 'ERR_SPIFFE_TRUST_DOMAIN_CHARACTER', 'ipv6'],
  ['spiffe://exa%41mple.org/x', 'ERR_SPIFFE_TRUST_DOMAIN_PERCENT_ENCODED', 'percent-encoded'],
  ['spiffe://Example.org/x', 'ERR_SPIFFE_TRUST_DOMAIN_UPPERCASE', 'did you mean "example.org"'],
  ['spiffe://exa mple.org/x', 'ERR_SPIFFE_TRUST_DOMAIN_CHARACTER', 'contains " "'],
  ['spiffe://exa+mple.org/x', 'ERR_SPIFFE_TRUST_DOMAIN_CHARACTER', 'contains "+"'],
  ['spiffe://exämple.org/x', 'ERR_SPIFFE_TRUST_DOMAIN_CHARACTER', 'contains "ä"'],
  [`spiffe://${'a'.repeat(256)}/x`, 'ERR_SPIFFE_TRUST_DOMAIN_TOO_LONG', '255 bytes'],
  ['spiffe://example.org/', 'ERR_SPIFFE_ID_PATH_TRAILING_SLASH', 'must not end with "/"'],
  ['spiffe://example.org/a/', 'ERR_SPIFFE_ID_PATH_TRAILING_SLASH', '"/a/" in "spiffe://example.org/a/"'],
  ['spiffe://example.org//a', 'ERR_SPIFFE_ID_PATH_EMPTY_SEGMENT', 'empty segment'],
  ['spiffe://example.org/a//b', 'ERR_SPIFFE_ID_PATH_EMPTY_SEGMENT', 'empty segment'],
  ['spiffe://example.org/./a', 'ERR_SPIFFE_ID_PATH_DOT_SEGMENT', 'a "." segment'],
  ['spiffe://example.org/a/..', 'ERR_SPIFFE_ID_PATH_DOT_SEGMENT', 'a ".." segment'],
  ['spiffe://example.org/a%20b', 'ERR_SPIFFE_ID_PATH_PERCENT_ENCODED', 'percent-encoded'],
  ['spiffe://example.org/a b', 'ERR_SPIFFE_ID_PATH_CHARACTER', 'contains " "'],
  ['spiffe://example.org/a:b', 'ERR_SPIFFE_ID_PATH_CHARACTER', 'contains ":"'],
  ['spiffe://example.org/a@b', 'ERR_SPIFFE_ID_PATH_CHARACTER', 'contains "@"'],
  ['spiffe://example.org/ä', 'ERR_SPIFFE_ID_PATH_CHARACTER', 'contains "ä"'],
  ['spiffe://example.org/a?x=1', 'ERR_SPIFFE_ID_QUERY', 'query'],
  ['spiffe://example.org?x=1', 'ERR_SPIFFE_ID_QUERY', 'query'],
  ['spiffe://example.org/a?x#y', 'ERR_SPIFFE_ID_QUERY', 'query'],
  ['spiffe://example.org/a#frag', 'ERR_SPIFFE_ID_FRAGMENT', 'fragment'],
  ['spiffe://example.org/a#x?y', 'ERR_SPIFFE_ID_FRAGMENT', 'fragment'],
  [`spiffe://example.org/${'a'.repeat(MAX_SPIFFE_ID_BYTES - 20)}`, 'ERR_SPIFFE_ID_TOO_LONG', '2048 bytes']
]

for (const [input, code, text] of invalid) {
  t.test(`rejects ${JSON.stringify(input.slice(0, 60))} with ${code}`, async (t) => {
    const err = t.throws(() => SpiffeId.fromString(input), { code, name: 'SpiffeLbError' }) as Error
    t.match(err.message, text)
    t.equal(err.message.slice(0, 1), err.message.slice(0, 1).toLowerCase(), 'message starts lowercase')
  })
}

t.test('rejects a value that is not a string', async (t) => {
  t.throws(() => SpiffeId.fromString(42 as unknown as string), { code: 'ERR_SPIFFE_ID_NOT_A_STRING' })
})

t.test('an id of exactly 2048 bytes works, 2049 does not', async (t) => {
  const prefix = 'spiffe://example.org'
  // segments of 63 chars joined by "/" up to the exact byte budget
  let path = ''
  while (prefix.length + path.length + 64 <= MAX_SPIFFE_ID_BYTES) path += `/${'s'.repeat(63)}`
  path += `/${'x'.repeat(MAX_SPIFFE_ID_BYTES - prefix.length - path.length - 1)}`
  const s = prefix + path
  t.equal(Buffer.byteLength(s), 2048)
  const id = SpiffeId.fromString(s)
  t.equal(id.toString(), s)
  t.equal(SpiffeId.fromPath(id.trustDomain, path).toString(), s)
  t.throws(() => SpiffeId.fromString(`${s}y`), { code: 'ERR_SPIFFE_ID_TOO_LONG' })
  t.throws(() => SpiffeId.fromPath(id.trustDomain, `${path}y`), { code: 'ERR_SPIFFE_ID_TOO_LONG' })
})

t.test('a 255-byte trust domain works, 256 does not', async (t) => {
  const name = `${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(63)}`
  t.equal(name.length, 255)
  t.equal(SpiffeId.fromString(`spiffe://${name}/x`).trustDomain.name, name)
  t.throws(() => TrustDomain.fromString(`${name}e`), { code: 'ERR_SPIFFE_TRUST_DOMAIN_TOO_LONG' })
})

t.test('fromPath builds and validates ids', async (t) => {
  const td = TrustDomain.fromString('example.org')
  t.equal(SpiffeId.fromPath(td, '/ns/a').toString(), 'spiffe://example.org/ns/a')
  t.equal(SpiffeId.fromPath(td, '').toString(), 'spiffe://example.org')
  const bad: Array<[string, string]> = [
    ['ns/a', 'ERR_SPIFFE_ID_PATH_NO_LEADING_SLASH'],
    ['/', 'ERR_SPIFFE_ID_PATH_TRAILING_SLASH'],
    ['/a//b', 'ERR_SPIFFE_ID_PATH_EMPTY_SEGMENT'],
    ['/..', 'ERR_SPIFFE_ID_PATH_DOT_SEGMENT'],
    ['/a%2f', 'ERR_SPIFFE_ID_PATH_PERCENT_ENCODED'],
    ['/a?b', 'ERR_SPIFFE_ID_PATH_CHARACTER'],
    ['/a#b', 'ERR_SPIFFE_ID_PATH_CHARACTER']
  ]
  for (const [path, code] of bad) t.throws(() => SpiffeId.fromPath(td, path), { code }, path)
})

t.test('equality and membership', async (t) => {
  const a = SpiffeId.fromString('spiffe://example.org/a')
  t.ok(a.equals(SpiffeId.fromString('SPIFFE://example.org/a')))
  t.notOk(a.equals(SpiffeId.fromString('spiffe://example.org/A')), 'path is case-sensitive')
  t.notOk(a.equals(SpiffeId.fromString('spiffe://example.org/a/b')))
  t.ok(a.memberOf(TrustDomain.fromString('example.org')))
  t.notOk(a.memberOf(TrustDomain.fromString('example.org.evil')))
  t.notOk(SpiffeId.fromString('spiffe://example.orga/x').memberOf(TrustDomain.fromString('example.org')))
})
