import t from 'tap'
import { createHash } from 'node:crypto'
import { BundleSet } from './bundle-set.ts'
import { domain, leaf } from './testing/spiffe-fixtures.ts'
import { TrustDomain } from './trust-domain.ts'
import { X509Bundle } from './x509-bundle.ts'

const a = await domain('a.test', { intermediate: true })
const a2 = await domain('a.test')
const b = await domain('b.test')
const td = a.td
const aLeaf = await leaf(a.issuer, 'spiffe://a.test/web')
const b64 = (der: Buffer): string => der.toString('base64')

t.test('holds deduplicated authorities with sha-256 fingerprints', async (t) => {
  const bundle = new X509Bundle(td, [a.root.cert, a2.root.cert, a.root.cert])
  t.equal(bundle.authorities.length, 2)
  t.same(bundle.fingerprints(), [a.root.cert, a2.root.cert].map((c) => createHash('sha256').update(c.raw).digest('hex')))
  t.match(bundle.fingerprints()[0], /^[0-9a-f]{64}$/)
  t.equal(bundle.withAuthorities([a2.root.cert, a.issuer.cert]).authorities.length, 3)
  t.ok(bundle.equals(new X509Bundle(td, [a2.root.cert, a.root.cert])), 'order does not matter')
  t.notOk(bundle.equals(new X509Bundle(td, [a.root.cert])))
  t.notOk(bundle.equals(new X509Bundle(b.td, [a.root.cert, a2.root.cert])))
})

t.test('refuses an empty bundle and non-ca authorities', async (t) => {
  t.throws(() => new X509Bundle(td, []), { code: 'ERR_SPIFFE_BUNDLE_EMPTY', message: /"a\.test"/ })
  t.throws(() => new X509Bundle(td, [aLeaf.cert]), { code: 'ERR_SPIFFE_BUNDLE_AUTHORITY_NOT_CA' })
})

t.test('pem round trip', async (t) => {
  const bundle = X509Bundle.fromPem(td, `comment\n${a.root.certPem}${a2.root.certPem}${a.root.certPem}`, 'ca_certificates.pem')
  t.equal(bundle.authorities.length, 2)
  t.ok(X509Bundle.fromPem(td, bundle.toPem()).equals(bundle))
})

const pemBad: Array<[string, string, string]> = [
  ['no certificate', 'nothing', 'ERR_SPIFFE_BUNDLE_EMPTY'],
  ['a private key', a.root.certPem + a.root.keyPem, 'ERR_SPIFFE_BUNDLE_UNEXPECTED_PEM_BLOCK'],
  ['a block that is not a certificate', '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n', 'ERR_SPIFFE_BUNDLE_BAD_CERTIFICATE'],
  ['a leaf', aLeaf.certPem, 'ERR_SPIFFE_BUNDLE_AUTHORITY_NOT_CA'],
  ['a truncated block', a.root.certPem.slice(0, 100), 'ERR_SPIFFE_PEM_TRUNCATED']
]
for (const [name, pem, code] of pemBad) {
  t.test(`fromPem rejects ${name}`, async (t) => {
    t.throws(() => X509Bundle.fromPem(td, pem, 'x.pem'), { code, at: 'x.pem' })
  })
}

t.test('jwks round trip', async (t) => {
  const bundle = new X509Bundle(td, [a.root.cert, a2.root.cert])
  const doc = bundle.toJwks(7) as { keys: Array<Record<string, unknown>>, spiffe_sequence: number }
  t.equal(doc.spiffe_sequence, 7)
  t.equal(doc.keys.length, 2)
  t.match(doc.keys[0], { use: 'x509-svid', kty: 'EC', crv: 'P-256', x5c: [b64(a.root.cert.raw)] })
  t.notOk('kid' in doc.keys[0]!, 'x509-svid keys carry no kid (X509-SVID 6.1)')
  t.notOk('spiffe_sequence' in bundle.toJwks())
  t.ok(X509Bundle.fromJwks(td, JSON.parse(JSON.stringify(doc))).equals(bundle))
})

t.test('jwks: ignores what the spec says to ignore', async (t) => {
  const bundle = X509Bundle.fromJwks(td, {
    spiffe_refresh_hint: 300,
    keys: [
      { use: 'jwt-svid', kty: 'EC', kid: 'k1', crv: 'P-256', x: 'AA', y: 'AA' },
      { use: 'something-new', kty: 'EC', x5c: ['!!'] },
      { kty: 'EC', x5c: ['!!'] },
      { use: 'x509-svid', kty: 'EC' },
      { use: 'x509-svid', kty: 'EC', x5c: [] },
      { use: 'x509-svid', kty: 'EC', x5c: [b64(a.root.cert.raw), 'ignored extra value'] }
    ]
  })
  t.same(bundle.authorities.map((c) => c.fingerprint256), [a.root.cert.fingerprint256])
})

const jwksBad: Array<[string, unknown, string, string]> = [
  ['a non-object', [], 'ERR_SPIFFE_BUNDLE_JWKS_MALFORMED', 'tb'],
  ['missing keys', {}, 'ERR_SPIFFE_BUNDLE_JWKS_MALFORMED', 'tb.keys'],
  ['keys as an object', { keys: {} }, 'ERR_SPIFFE_BUNDLE_JWKS_MALFORMED', 'tb.keys'],
  ['a key that is not an object', { keys: [{ use: 'jwt-svid' }, 'x'] }, 'ERR_SPIFFE_BUNDLE_JWK_MALFORMED', 'tb.keys[1]'],
  ['x5c as a string', { keys: [{ use: 'x509-svid', x5c: b64(a.root.cert.raw) }] }, 'ERR_SPIFFE_BUNDLE_JWK_BAD_X5C', 'tb.keys[0].x5c'],
  ['x5c value not base64', { keys: [{ use: 'x509-svid', x5c: ['MII*'] }] }, 'ERR_SPIFFE_BUNDLE_JWK_BAD_X5C', 'tb.keys[0].x5c[0]'],
  ['x5c value base64url', { keys: [{ use: 'x509-svid', x5c: ['MIIB-_0A'] }] }, 'ERR_SPIFFE_BUNDLE_JWK_BAD_X5C', 'tb.keys[0].x5c[0]'],
  ['x5c value a number', { keys: [{ use: 'x509-svid', x5c: [1] }] }, 'ERR_SPIFFE_BUNDLE_JWK_BAD_X5C', 'tb.keys[0].x5c[0]'],
  ['x5c value not a certificate', { keys: [{ use: 'x509-svid', x5c: ['AAAA'] }] }, 'ERR_SPIFFE_BUNDLE_BAD_CERTIFICATE', 'tb.keys[0].x5c[0]'],
  ['x5c value a leaf', { keys: [{ use: 'x509-svid', x5c: [b64(aLeaf.cert.raw)] }] }, 'ERR_SPIFFE_BUNDLE_AUTHORITY_NOT_CA', 'tb.keys[0].x5c[0]'],
  ['only jwt-svid keys', { keys: [{ use: 'jwt-svid', kty: 'EC' }] }, 'ERR_SPIFFE_BUNDLE_NO_X509_AUTHORITIES', 'tb.keys'],
  ['no keys', { keys: [] }, 'ERR_SPIFFE_BUNDLE_NO_X509_AUTHORITIES', 'tb.keys'],
  ['a negative sequence', { keys: [], spiffe_sequence: -1 }, 'ERR_SPIFFE_BUNDLE_BAD_SEQUENCE', 'tb.spiffe_sequence'],
  ['a string sequence', { keys: [], spiffe_sequence: '1' }, 'ERR_SPIFFE_BUNDLE_BAD_SEQUENCE', 'tb.spiffe_sequence'],
  ['a fractional refresh hint', { keys: [], spiffe_refresh_hint: 1.5 }, 'ERR_SPIFFE_BUNDLE_BAD_SEQUENCE', 'tb.spiffe_refresh_hint']
]
for (const [name, doc, code, at] of jwksBad) {
  t.test(`fromJwks rejects ${name}`, async (t) => {
    const err = t.throws(() => X509Bundle.fromJwks(td, doc, 'tb'), { code, at }) as Error
    t.match(err.message, /^[^A-Z]/)
  })
}

t.test('bundle set: one bundle per trust domain', async (t) => {
  const set = BundleSet.of([b.bundle, a.bundle])
  t.equal(set.size, 2)
  t.same(set.trustDomains().map(String), ['a.test', 'b.test'])
  t.same([...set].map((x) => x.trustDomain.name), ['a.test', 'b.test'])
  t.equal(set.get('a.test'), a.bundle)
  t.equal(set.get('spiffe://a.test'), a.bundle)
  t.equal(set.get(b.td), b.bundle)
  t.equal(set.getBundleForTrustDomain(TrustDomain.fromString('b.test')), b.bundle)
  t.equal(set.get('c.test'), undefined)
  t.ok(set.has('b.test'))
  t.notOk(set.has('c.test'))
  t.throws(() => set.get('Bad'), { code: 'ERR_SPIFFE_TRUST_DOMAIN_UPPERCASE' })
  t.throws(() => BundleSet.of([a.bundle, b.bundle, a2.bundle]), { code: 'ERR_SPIFFE_BUNDLE_DUPLICATE_TRUST_DOMAIN', message: /"a\.test"/ })
  t.equal(BundleSet.empty().size, 0)
})

t.test('bundle set: merged adds anchors or domains without touching the original', async (t) => {
  const set = BundleSet.of([a.bundle])
  const more = set.merged(a2.bundle)
  t.equal(more.get('a.test')?.authorities.length, 2)
  t.equal(set.get('a.test')?.authorities.length, 1, 'the original set is unchanged')
  const withB = more.merged(b.bundle)
  t.same(withB.trustDomains().map(String), ['a.test', 'b.test'])
  t.ok(withB.equals(BundleSet.of([b.bundle, a.bundle.withAuthorities(a2.bundle.authorities)])))
  t.notOk(withB.equals(more))
  t.notOk(more.equals(BundleSet.of([a.bundle])))
})
