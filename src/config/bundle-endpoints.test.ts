import t from 'tap'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { FEDERATION_MAX_BUNDLE_AGE_MS } from '../defaults.ts'
import { baseDoc, edit, load, rootPem, NUMBER, type Doc } from './testing/config-fixtures.ts'

const pem = await rootPem()
const base = baseDoc(pem)
const PARTNER = ['workloadIdentityPools', 0, 'inlineTrustConfig', 'additionalTrustBundles', 'partner.example'] as const
const AT = 'workloadIdentityPools[0].inlineTrustConfig.additionalTrustBundles["partner.example"]'
const dir = await mkdtemp(join(tmpdir(), 'spiffe-lb-bundle-endpoints-'))
t.teardown(async () => { await rm(dir, { recursive: true, force: true }) })
await writeFile(join(dir, 'ca.pem'), pem)
await writeFile(join(dir, 'not-pem.txt'), 'hello')
const web = { url: 'https://bundles.partner.example/bundle', profile: 'https_web' }
const spiffe = { url: 'https://127.0.0.1:8443/', profile: 'https_spiffe', endpointSpiffeId: 'spiffe://partner.example/bundle-endpoint', bootstrapBundle: 'ca.pem' }
const withEndpoint = (endpoint: Doc): Doc => edit(base, [PARTNER, { bundleEndpoint: endpoint }])

/** [what is broken, the document, every issue expected: [path, code, message (^regex)]] */
const cases: Array<[string, Doc, Array<[string, string, string]>]> = [
  ['anchors and an endpoint', edit(base, [[...PARTNER, 'bundleEndpoint'], web]),
    [[`${AT}.bundleEndpoint`, 'ERR_SPIFFE_CONFIG_BUNDLE_ENDPOINT_WITH_ANCHORS', 'trust domain "partner.example" has both "trustAnchors" and "bundleEndpoint"; give one source of its bundle']]],
  ['neither anchors nor an endpoint', edit(base, [PARTNER, {}]),
    [[`${AT}.trustAnchors`, 'ERR_SPIFFE_CONFIG_REQUIRED', 'is required (or, instead, a "bundleEndpoint")']]],
  ['http url', withEndpoint({ ...web, url: 'http://bundles.partner.example/' }),
    [[`${AT}.bundleEndpoint.url`, 'ERR_SPIFFE_CONFIG_BUNDLE_ENDPOINT_URL', 'bundle endpoint url must be an https url with a host, got "http://bundles.partner.example/"']]],
  ['url without scheme', withEndpoint({ ...web, url: '127.0.0.1:8443' }),
    [[`${AT}.bundleEndpoint.url`, 'ERR_SPIFFE_CONFIG_BUNDLE_ENDPOINT_URL', '^got "127.0.0.1:8443"']]],
  ['unknown profile', withEndpoint({ ...web, profile: 'https_mtls' }),
    [[`${AT}.bundleEndpoint.profile`, 'ERR_SPIFFE_CONFIG_BUNDLE_ENDPOINT_PROFILE', 'must be one of https_web, https_spiffe, got "https_mtls"']]],
  ['https_web with spiffe fields', withEndpoint({ ...web, endpointSpiffeId: spiffe.endpointSpiffeId }),
    [[`${AT}.bundleEndpoint.endpointSpiffeId`, 'ERR_SPIFFE_CONFIG_BUNDLE_ENDPOINT_FIELD', '"endpointSpiffeId" does not apply to profile "https_web"']]],
  ['https_web caFile missing', withEndpoint({ ...web, caFile: 'none.pem' }),
    [[`${AT}.bundleEndpoint.caFile`, 'ERR_SPIFFE_CONFIG_BUNDLE_ENDPOINT_PEM', `^cannot read pem file "${dir}/none.pem": ENOENT`]]],
  ['https_web caFile not pem', withEndpoint({ ...web, caFile: 'not-pem.txt' }),
    [[`${AT}.bundleEndpoint.caFile`, 'ERR_SPIFFE_CONFIG_BUNDLE_ENDPOINT_PEM', '^not a usable pem of ca certificates']]],
  ['https_spiffe without id and bootstrap', withEndpoint({ url: spiffe.url, profile: 'https_spiffe' }), [
    [`${AT}.bundleEndpoint.endpointSpiffeId`, 'ERR_SPIFFE_CONFIG_REQUIRED', '^is required for profile "https_spiffe"'],
    [`${AT}.bundleEndpoint.bootstrapBundle`, 'ERR_SPIFFE_CONFIG_REQUIRED', '^is required for profile "https_spiffe"']]],
  ['https_spiffe id not a spiffe id', withEndpoint({ ...spiffe, endpointSpiffeId: 'partner.example' }),
    [[`${AT}.bundleEndpoint.endpointSpiffeId`, 'ERR_SPIFFE_CONFIG_BUNDLE_ENDPOINT_ID', '^endpointSpiffeId "partner.example" is not a spiffe id']]],
  ['https_spiffe with caFile', withEndpoint({ ...spiffe, caFile: 'ca.pem' }),
    [[`${AT}.bundleEndpoint.caFile`, 'ERR_SPIFFE_CONFIG_BUNDLE_ENDPOINT_FIELD', '"caFile" does not apply to profile "https_spiffe"']]],
  ['maxBundleAge not a duration', withEndpoint({ ...web, maxBundleAge: '1d' }),
    [[`${AT}.bundleEndpoint.maxBundleAge`, 'ERR_SPIFFE_CONFIG_DURATION', '^duration must be a number with a unit (ms, s, m or h), like "500ms", "30s", "1.5s", "5m", "24h" or "1m30s", got "1d"']]],
  ['maxBundleAge zero', withEndpoint({ ...web, maxBundleAge: '0s' }),
    [[`${AT}.bundleEndpoint.maxBundleAge`, 'ERR_SPIFFE_CONFIG_RANGE', 'maxBundleAge must be positive, got "0s"']]],
  ['the pool\'s own domain', edit(base, [['workloadIdentityPools', 0, 'inlineTrustConfig', 'additionalTrustBundles', `demo-pool.global.${NUMBER}.workload.id.goog`], { bundleEndpoint: web }]),
    [[`workloadIdentityPools[0].inlineTrustConfig.additionalTrustBundles["demo-pool.global.${NUMBER}.workload.id.goog"].bundleEndpoint`, 'ERR_SPIFFE_CONFIG_BUNDLE_ENDPOINT_OWN_DOMAIN', '^trust domain "demo-pool.global.123456789012.workload.id.goog" is the pool\'s own domain']]]
]

t.test('each broken bundleEndpoint rule is reported with its path, code and message', async (t) => {
  for (const [what, doc, want] of cases) {
    const r = load(doc, dir)
    if (r.ok) { t.fail(`${what}: loaded`); continue }
    const got = r.errors.map((e) => [e.path, e.code, e.message])
    t.equal(got.length, want.length, `${what}: ${JSON.stringify(got)}`)
    want.forEach(([path, code, message], i) => {
      t.equal(got[i]?.[0], path, `${what}: path`)
      t.equal(got[i]?.[1], code, `${what}: code`)
      if (message.startsWith('^')) t.match(got[i]?.[2], new RegExp(message.slice(1).replace(/[.()[\]"]/g, (c) => `\\${c}`)), `${what}: message`)
      else t.equal(got[i]?.[2], message, `${what}: message`)
    })
  }
})

t.test('resolved endpoints: profile fields, default and given max age, no inline bundle', async (t) => {
  const r = load(edit(base, [PARTNER, { bundleEndpoint: { ...spiffe, maxBundleAge: '600s' } }], [['workloadIdentityPools', 0, 'inlineTrustConfig', 'additionalTrustBundles', 'web.example'], { bundleEndpoint: { ...web, caFile: 'ca.pem' } }]), dir)
  if (!r.ok) { t.fail(JSON.stringify(r.errors)); return }
  const pool = r.config.workloadIdentityPools[0]
  t.equal(pool?.additionalTrustBundles.size, 0, 'fetched domains have no inline bundle')
  const [first, second] = pool?.bundleEndpoints ?? []
  t.match(first, { url: spiffe.url, profile: 'https_spiffe', maxBundleAgeMs: 600_000 })
  t.equal(first?.trustDomain.name, 'partner.example')
  if (first?.profile === 'https_spiffe') {
    t.equal(first.endpointSpiffeId.toString(), spiffe.endpointSpiffeId)
    t.equal(first.bootstrapBundle.trustDomain.name, 'partner.example', 'the bootstrap is the bundle of the endpoint id\'s domain')
  }
  t.match(second, { url: web.url, profile: 'https_web', maxBundleAgeMs: FEDERATION_MAX_BUNDLE_AGE_MS, caPem: /BEGIN CERTIFICATE/ })
  t.equal(second?.trustDomain.name, 'web.example')
})

t.test('an inline pem bootstrap bundle is accepted', async (t) => {
  const r = load(withEndpoint({ ...spiffe, bootstrapBundle: pem }), dir)
  t.ok(r.ok, r.ok ? '' : JSON.stringify(r.errors))
})
