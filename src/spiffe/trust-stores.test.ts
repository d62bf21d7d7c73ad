import t from 'tap'
import { parse as parseYaml } from 'yaml'
import { domain, leaf } from './testing/spiffe-fixtures.ts'
import { parseSpiffeBundleMap, parseSpiffeTrustStores, parseTrustBundlesMap } from './trust-stores.ts'

const a = await domain('a.test')
const a2 = await domain('a.test')
const b = await domain('pool.global.123456789012.workload.id.goog')
const aLeaf = await leaf(a.issuer, 'spiffe://a.test/web')
const anchor = (pem: string): { pemCertificate: string } => ({ pemCertificate: pem })
const fps = (set: ReturnType<typeof parseSpiffeTrustStores>, td: string): string[] => set.get(td)?.fingerprints() ?? []

t.test('trust config: the gcloud describe output, pasted as yaml', async (t) => {
  // gcloud prints pemCertificate as a plain scalar with literal "\n" two-character sequences
  const oneLine = (pem: string): string => pem.trim().replaceAll('\n', '\\n')
  const text = [
    "createTime: '2025-11-06T10:15:50.048030758Z'",
    'name: projects/p/locations/global/trustConfigs/mi-tc-e4f05160',
    'spiffeTrustStores:',
    '  a.test:',
    '    trustAnchors:',
    `    - pemCertificate: ${oneLine(a.root.certPem)}`,
    `    - pemCertificate: ${oneLine(a2.root.certPem)}`,
    `  ${b.td.name}:`,
    '    trustAnchors:',
    `    - pemCertificate: ${oneLine(b.root.certPem)}`,
    "updateTime: '2025-11-07T08:25:15.760754841Z'"
  ].join('\n')
  const set = parseSpiffeTrustStores(parseYaml(text))
  t.same(set.trustDomains().map(String), ['a.test', b.td.name])
  t.same(fps(set, 'a.test'), [...a.bundle.fingerprints(), ...a2.bundle.fingerprints()])
  t.same(fps(set, b.td.name), b.bundle.fingerprints())
})

t.test('trust config: the bare map, real newlines, spiffe:// keys', async (t) => {
  const set = parseSpiffeTrustStores({
    'spiffe://a.test': { trustAnchors: [anchor(a.root.certPem)] },
    [b.td.name]: { trustAnchors: [anchor(b.root.certPem.replaceAll('\n', '\r\n'))], intermediateCas: [] }
  })
  t.same(fps(set, 'a.test'), a.bundle.fingerprints())
  t.same(fps(set, b.td.name), b.bundle.fingerprints())
  t.equal(parseSpiffeTrustStores({}).size, 0, 'an empty map is an empty set')
  t.equal(parseSpiffeTrustStores({ spiffeTrustStores: {} }).size, 0)
})

const good = { trustAnchors: [anchor(a.root.certPem)] }
const storeBad: Array<[string, unknown, string, string]> = [
  ['a null document', null, 'ERR_SPIFFE_BUNDLE_MAP_MALFORMED', 'spiffeTrustStores'],
  ['spiffeTrustStores as a list', { spiffeTrustStores: [good] }, 'ERR_SPIFFE_BUNDLE_MAP_MALFORMED', 'spiffeTrustStores'],
  ['a trust domain twice', { spiffeTrustStores: { 'a.test': good, 'spiffe://a.test': good } }, 'ERR_SPIFFE_BUNDLE_DUPLICATE_TRUST_DOMAIN', 'spiffeTrustStores["spiffe://a.test"]'],
  ['an uppercase trust domain', { spiffeTrustStores: { 'A.test': good } }, 'ERR_SPIFFE_TRUST_DOMAIN_UPPERCASE', 'spiffeTrustStores["A.test"]'],
  ['a trust domain with a path', { 'spiffe://a.test/x': good }, 'ERR_SPIFFE_TRUST_DOMAIN_HAS_PATH', '["spiffe://a.test/x"]'],
  ['a store that is a list', { spiffeTrustStores: { 'a.test': [] } }, 'ERR_SPIFFE_BUNDLE_TRUST_STORE_MALFORMED', 'spiffeTrustStores["a.test"]'],
  ['no trustAnchors', { spiffeTrustStores: { 'a.test': {} } }, 'ERR_SPIFFE_BUNDLE_TRUST_STORE_MALFORMED', 'spiffeTrustStores["a.test"].trustAnchors'],
  ['an empty anchor list', { spiffeTrustStores: { 'a.test': { trustAnchors: [] } } }, 'ERR_SPIFFE_BUNDLE_NO_TRUST_ANCHORS', 'spiffeTrustStores["a.test"].trustAnchors'],
  ['an anchor that is a string', { 'a.test': { trustAnchors: [a.root.certPem] } }, 'ERR_SPIFFE_BUNDLE_TRUST_ANCHOR_MALFORMED', '["a.test"].trustAnchors[0]'],
  ['a missing pemCertificate', { 'a.test': { trustAnchors: [{}] } }, 'ERR_SPIFFE_BUNDLE_TRUST_ANCHOR_MALFORMED', '["a.test"].trustAnchors[0].pemCertificate'],
  ['an empty pemCertificate', { 'a.test': { trustAnchors: [anchor(' ')] } }, 'ERR_SPIFFE_BUNDLE_TRUST_ANCHOR_MALFORMED', '["a.test"].trustAnchors[0].pemCertificate'],
  ['a pemCertificate without pem', { spiffeTrustStores: { 'a.test': { trustAnchors: [anchor(a.root.certPem), anchor('CERTIFICATE_MATERIAL')] } } }, 'ERR_SPIFFE_BUNDLE_TRUST_ANCHOR_NOT_PEM', 'spiffeTrustStores["a.test"].trustAnchors[1].pemCertificate'],
  ['two certificates in one pemCertificate', { 'a.test': { trustAnchors: [anchor(a.root.certPem + a2.root.certPem)] } }, 'ERR_SPIFFE_BUNDLE_TRUST_ANCHOR_MULTIPLE_CERTIFICATES', '["a.test"].trustAnchors[0].pemCertificate'],
  ['a private key', { 'a.test': { trustAnchors: [anchor(a.root.keyPem)] } }, 'ERR_SPIFFE_BUNDLE_UNEXPECTED_PEM_BLOCK', '["a.test"].trustAnchors[0].pemCertificate'],
  ['a leaf certificate', { 'a.test': { trustAnchors: [anchor(aLeaf.certPem)] } }, 'ERR_SPIFFE_BUNDLE_AUTHORITY_NOT_CA', '["a.test"].trustAnchors[0].pemCertificate'],
  ['bad der', { 'a.test': { trustAnchors: [anchor('-----BEGIN CERTIFICATE-----\\nAAAA\\n-----END CERTIFICATE-----')] } }, 'ERR_SPIFFE_BUNDLE_BAD_CERTIFICATE', '["a.test"].trustAnchors[0].pemCertificate'],
  ['a truncated pem', { 'a.test': { trustAnchors: [anchor(a.root.certPem.slice(0, 90))] } }, 'ERR_SPIFFE_PEM_TRUNCATED', '["a.test"].trustAnchors[0].pemCertificate'],
  ['intermediate cas', { 'a.test': { ...good, intermediateCas: [anchor(a.root.certPem)] } }, 'ERR_SPIFFE_BUNDLE_INTERMEDIATES_UNSUPPORTED', '["a.test"].intermediateCas']
]
for (const [name, doc, code, at] of storeBad) {
  t.test(`trust config rejects ${name}`, async (t) => {
    const err = t.throws(() => parseSpiffeTrustStores(doc), { code, at }) as Error
    t.match(err.message, /^[^A-Z]/)
  })
}

t.test('trust config errors are prefixed by the source key path', async (t) => {
  const base = 'workloadIdentityPools[0].inlineTrustConfig.additionalTrustBundles'
  t.throws(() => parseSpiffeTrustStores({ 'a.test': { trustAnchors: [] } }, base), { code: 'ERR_SPIFFE_BUNDLE_NO_TRUST_ANCHORS', at: `${base}["a.test"].trustAnchors` })
  t.throws(() => parseSpiffeTrustStores({ spiffeTrustStores: { 'a.test': { trustAnchors: [] } } }, 'tc'), { code: 'ERR_SPIFFE_BUNDLE_NO_TRUST_ANCHORS', at: 'tc.spiffeTrustStores["a.test"].trustAnchors' })
})

t.test('trust_bundles.json', async (t) => {
  const doc = JSON.parse(JSON.stringify({
    trust_domains: {
      'a.test': a.bundle.withAuthorities(a2.bundle.authorities).toJwks(3),
      [b.td.name]: { ...b.bundle.toJwks(1), spiffe_refresh_hint: 300 }
    }
  })) as unknown
  const set = parseTrustBundlesMap(doc)
  t.same(set.trustDomains().map(String), ['a.test', b.td.name])
  t.same(fps(set, 'a.test'), [...a.bundle.fingerprints(), ...a2.bundle.fingerprints()])
  t.equal(parseTrustBundlesMap({ trust_domains: {} }).size, 0)
})

const jwks = a.bundle.toJwks(1)
const mapBad: Array<[string, unknown, string, string]> = [
  ['a list', [], 'ERR_SPIFFE_BUNDLE_MAP_MALFORMED', 'trust bundles'],
  ['no trust_domains', { trustDomains: {} }, 'ERR_SPIFFE_BUNDLE_MAP_MALFORMED', 'trust_domains'],
  ['a trust domain twice', { trust_domains: { 'a.test': jwks, 'spiffe://a.test': jwks } }, 'ERR_SPIFFE_BUNDLE_DUPLICATE_TRUST_DOMAIN', 'trust_domains["spiffe://a.test"]'],
  ['a bad key', { trust_domains: { 'a.test:443': jwks } }, 'ERR_SPIFFE_TRUST_DOMAIN_PORT', 'trust_domains["a.test:443"]'],
  ['a bundle without keys', { trust_domains: { 'a.test': { spiffe_sequence: 1 } } }, 'ERR_SPIFFE_BUNDLE_JWKS_MALFORMED', 'trust_domains["a.test"].keys'],
  ['a bad sequence', { trust_domains: { 'a.test': { ...jwks, spiffe_sequence: 'x' } } }, 'ERR_SPIFFE_BUNDLE_BAD_SEQUENCE', 'trust_domains["a.test"].spiffe_sequence'],
  ['a bad x5c', { trust_domains: { 'a.test': { keys: [{ use: 'x509-svid', x5c: ['%%'] }] } } }, 'ERR_SPIFFE_BUNDLE_JWK_BAD_X5C', 'trust_domains["a.test"].keys[0].x5c[0]'],
  ['only jwt-svid keys', { trust_domains: { 'a.test': { keys: [{ use: 'jwt-svid', kty: 'EC' }] } } }, 'ERR_SPIFFE_BUNDLE_NO_X509_AUTHORITIES', 'trust_domains["a.test"].keys']
]
for (const [name, doc, code, at] of mapBad) {
  t.test(`trust_bundles.json rejects ${name}`, async (t) => {
    t.throws(() => parseTrustBundlesMap(doc), { code, at })
  })
}

t.test('spiffe bundle map', async (t) => {
  const set = parseSpiffeBundleMap({ 'spiffe://a.test': jwks, [b.td.name]: b.bundle.toJwks() })
  t.same(set.trustDomains().map(String), ['a.test', b.td.name])
  t.same(fps(set, 'a.test'), a.bundle.fingerprints())
  t.throws(() => parseSpiffeBundleMap({ 'a.test': jwks, 'spiffe://a.test': jwks }), { code: 'ERR_SPIFFE_BUNDLE_DUPLICATE_TRUST_DOMAIN', at: '["spiffe://a.test"]' })
  t.throws(() => parseSpiffeBundleMap('x', 'bundles.json'), { code: 'ERR_SPIFFE_BUNDLE_MAP_MALFORMED', at: 'bundles.json' })
  t.throws(() => parseSpiffeBundleMap({ 'a.test': { keys: 'x' } }), { code: 'ERR_SPIFFE_BUNDLE_JWKS_MALFORMED', at: '["a.test"].keys' })
  t.throws(() => parseSpiffeBundleMap({ 'a.test': { keys: [{ use: 'x509-svid', x5c: [aLeaf.cert.raw.toString('base64')] }] } }),
    { code: 'ERR_SPIFFE_BUNDLE_AUTHORITY_NOT_CA', at: '["a.test"].keys[0].x5c[0]' })
})
