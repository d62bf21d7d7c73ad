import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { parse, parseAllDocuments } from 'yaml'
import { createRootCa, issueSvidCertificate } from '../pki/index.ts'
import { deriveResources } from './derived.ts'
import { describeResources, renderDescribe } from './describe.ts'
import { readDeriveInputs } from './state-view.ts'
import { fileStateView } from '../control/disk-state-view.ts'
import { CA_POOL, IDENTITY, NUMBER, baseDoc, edit, load, rootPem } from './testing/config-fixtures.ts'
import type { SpiffeLbConfig } from './types.ts'

const TD = `demo-pool.global.${NUMBER}.workload.id.goog`
const partner = await rootPem()
const ca = await createRootCa({ subject: 'CN=Demo Root CA, O=Demo', keyAlgorithm: 'ECDSA_P256', maxChainLength: 1 })
const notBefore = Date.UTC(2025, 10, 6, 10, 15, 48)
const svid = await issueSvidCertificate(ca, { uri: `spiffe:${IDENTITY}`, notBefore, lifetimeMs: 86_400_000 })

function config (doc = baseDoc(partner)): SpiffeLbConfig {
  const r = load(doc)
  if (!r.ok) throw new Error(JSON.stringify(r.errors))
  return r.config
}
/** A described body, as loosely typed as the YAML it prints. */
interface Body { [key: string]: unknown, tlsSettings?: Record<string, unknown>, spiffeTrustStores?: unknown }
const inputs = { caRootsPem: new Map([[CA_POOL, ca.certPem]]), certificatePem: new Map([['web', svid.chainPem]]) }

t.test('describe output round-trips: parsing it back gives the same resources', async (t) => {
  const c = config(edit(baseDoc(partner), [['backendServices', 1], { name: 'plain', backends: [{ endpoints: ['[::1]:9000'] }], tlsSettings: { sni: 'b.test' } }],
    [['urlMap', 'pathMatchers'], [{ name: 'm', defaultService: 'plain' }]], [['urlMap', 'hostRules'], [{ hosts: ['b.test'], pathMatcher: 'm' }]]))
  for (const opts of [{}, { inputs }]) {
    const resources = describeResources(c, opts)
    t.same(resources.map((r) => r.kind), ['workload-identity-pools', 'backend-services', 'backend-services', 'backend-authentication-configs', 'certificates', 'trust-configs'])
    const docs = parseAllDocuments(renderDescribe(c, opts))
    t.same(Array.isArray(docs) ? docs.map((d) => d.toJS() as unknown) : [], resources.map((r) => r.body), 'YAML stream = bodies')
  }
})

t.test('the shapes of the seeds, cross-referenced', async (t) => {
  const c = config()
  const [pool, svc, bac, crt, tc] = describeResources(c, { inputs }).map((r) => r.body as Body)
  const uuid = '[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}'
  t.same(pool?.mode, 'TRUST_DOMAIN')
  t.same(pool?.state, 'ACTIVE')
  t.same(svc?.tlsSettings?.identity, IDENTITY)
  t.match(svc?.tlsSettings?.authenticationConfig, new RegExp(`^//networksecurity\\.googleapis\\.com/projects/demo-project/locations/global/backendAuthenticationConfigs/mi-bac-${uuid}$`))
  const bacId = String(svc?.tlsSettings?.authenticationConfig).split('/').pop()
  t.equal(bac?.name, `projects/${NUMBER}/locations/global/backendAuthenticationConfigs/${bacId}`)
  t.match(bac?.clientCertificate, new RegExp(`^projects/${NUMBER}/locations/global/certificates/mi-crt-${uuid}$`))
  t.match(bac?.trustConfig, new RegExp(`^projects/${NUMBER}/locations/global/trustConfigs/mi-tc-${uuid}$`))
  t.match(bac?.etag, /^[A-Za-z0-9_-]{43}$/)
  t.equal(crt?.name, `projects/demo-project/locations/global/certificates/${String(bac?.clientCertificate).split('/').pop()}`)
  t.equal(tc?.name, `projects/demo-project/locations/global/trustConfigs/${String(bac?.trustConfig).split('/').pop()}`)
  t.same(crt, {
    expireTime: '2025-11-07T10:15:47Z',
    extendedKeyUsage: { clientAuth: true },
    managedIdentity: { identity: IDENTITY, state: 'ACTIVE' },
    name: crt?.name,
    pemCertificate: svid.chainPem.trim(),
    scope: 'CLIENT_AUTH',
    usedBy: [{ name: `//networksecurity.googleapis.com/projects/${NUMBER}/locations/global/backendAuthenticationConfigs/${bacId}` }]
  })
  t.same(tc?.spiffeTrustStores, {
    [TD]: { trustAnchors: [{ pemCertificate: ca.certPem.trim() }] },
    'partner.example': { trustAnchors: [{ pemCertificate: partner.trim() }] }
  })
  const text = renderDescribe(c, { kind: 'certificate', inputs })
  t.match(text, /\nusedBy:\n- name: \/\/networksecurity/, 'lists are not indented, like gcloud')
  t.match(text, /\npemCertificate: \|-\n {2}-----BEGIN CERTIFICATE-----\n/, 'PEMs are literal blocks')
})

t.test('fields only the run time knows are omitted until known', async (t) => {
  const c = config()
  const crt = parse(renderDescribe(c, { kind: 'certificates' })) as Record<string, unknown>
  t.same(crt.managedIdentity, { identity: IDENTITY, state: 'PROVISIONING' })
  t.notOk('pemCertificate' in crt)
  t.notOk('expireTime' in crt)
  const tc = parse(renderDescribe(c, { kind: 'trust-configs' })) as { spiffeTrustStores: Record<string, unknown> }
  t.same(tc.spiffeTrustStores[TD], {}, 'own domain listed, anchors unknown yet')
  t.same(deriveResources(c)[0]?.trustConfig.bundles.trustDomains().map((d) => d.name), ['partner.example'])
})

t.test('selecting by kind and name', async (t) => {
  const c = config()
  const d = deriveResources(c)[0]
  const names = (kind: string, name?: string): string[] => describeResources(c, { kind, ...(name === undefined ? {} : { name }) }).map((r) => r.names[0] ?? '')
  t.same(names('workload-identity-pool'), ['demo-pool'])
  t.same(names('backend-service', 'web'), ['web'])
  t.same(names('backend-authentication-configs', d?.backendAuthenticationConfig.id), [d?.backendAuthenticationConfig.id])
  t.same(names('backend-authentication-configs', d?.backendAuthenticationConfig.uri), [d?.backendAuthenticationConfig.id], 'by full name')
  t.same(names('certificates', d?.certificate.name), [d?.certificate.id])
  t.same(names('trust-config', d?.trustConfig.id), [d?.trustConfig.id])
  t.throws(() => names('certificates', 'mi-crt-nope'), { code: 'ERR_SPIFFE_CONFIG_RESOURCE_NOT_FOUND' })
  t.throws(() => names('pools'), { code: 'ERR_SPIFFE_CONFIG_UNKNOWN_KIND' })
})

t.test('derived names are stable across loads and differ per project and service', async (t) => {
  const ids = (c: SpiffeLbConfig): string[] => deriveResources(c).flatMap((d) => [d.backendAuthenticationConfig.id, d.certificate.id, d.trustConfig.id])
  const first = ids(config())
  t.same(ids(config()), first)
  t.equal(new Set(first).size, 3)
  const renamed = edit(baseDoc(partner), [['backendServices', 0, 'name'], 'web2'], [['urlMap', 'defaultService'], 'web2'])
  t.not(ids(config(renamed))[0], first[0])
})

t.test('a bad run-time input is a coded error', async (t) => {
  t.throws(() => deriveResources(config(), { certificatePem: new Map([['web', 'junk']]) }), { code: 'ERR_SPIFFE_CONFIG_DERIVE_INPUT' })
  t.throws(() => deriveResources(config(), { caRootsPem: new Map([[CA_POOL, svid.certPem]]) }), { code: 'ERR_SPIFFE_CONFIG_DERIVE_INPUT' })
})

t.test('the state directory view', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'spiffe-lb-state-'))
  t.teardown(async () => { await rm(dir, { recursive: true, force: true }) })
  const issuer = config(edit(baseDoc(partner), [['credentials'], { stateDir: join(dir, 'state') }]))
  t.same(await readDeriveInputs(issuer, fileStateView(issuer)), { caRootsPem: new Map(), certificatePem: new Map(), trustDomainRootsPem: new Map() }, 'nothing yet')
  await mkdir(join(dir, 'state', 'ca-pools', 'root-pool'), { recursive: true })
  await writeFile(join(dir, 'state', 'ca-pools', 'root-pool', 'ca.pem'), ca.certPem)
  t.same((await readDeriveInputs(issuer, fileStateView(issuer))).caRootsPem, new Map([[CA_POOL, ca.certPem]]))

  const creds = join(dir, 'creds')
  await mkdir(creds)
  const fromDir = config(edit(baseDoc(partner), [['credentials'], { source: 'directory', directory: creds }]))
  await writeFile(join(creds, 'certificates.pem'), svid.chainPem)
  await writeFile(join(creds, 'ca_certificates.pem'), ca.certPem)
  const got = await readDeriveInputs(fromDir, fileStateView(fromDir))
  t.same(got.certificatePem, new Map([['web', svid.chainPem]]))
  t.same(got.trustDomainRootsPem, new Map([[TD, ca.certPem]]))
  const other = await issueSvidCertificate(ca, { uri: `spiffe://${TD}/ns/apps/sa/echo`, lifetimeMs: 86_400_000 })
  await writeFile(join(creds, 'certificates.pem'), other.chainPem)
  t.same((await readDeriveInputs(fromDir, fileStateView(fromDir))).certificatePem, new Map(), 'a certificate of another identity is not shown')
})

t.test('a pool\'s bundle endpoints are shown as an extension, without the bootstrap pem', async (t) => {
  const c = config(edit(baseDoc(partner), [['workloadIdentityPools', 0, 'inlineTrustConfig', 'additionalTrustBundles', 'partner.example'], {
    bundleEndpoint: { url: 'https://127.0.0.1:8443/', profile: 'https_spiffe', endpointSpiffeId: 'spiffe://partner.example/be', bootstrapBundle: partner }
  }]))
  const pool = describeResources(c).find((r) => r.kind === 'workload-identity-pools')?.body as Body
  t.same(pool.spiffeLbExtensions, { bundleEndpoints: { 'partner.example': { url: 'https://127.0.0.1:8443/', profile: 'https_spiffe', endpointSpiffeId: 'spiffe://partner.example/be', maxBundleAge: '86400s' } } })
  t.equal(pool.inlineTrustConfig, undefined, 'no inline bundle left')
})
