import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { deriveResources } from './derived.ts'
import { loadConfigFile } from './load.ts'
import { rootPem } from './testing/config-fixtures.ts'

const examples = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'examples')

t.test('(a) one trust domain', async (t) => {
  const r = await loadConfigFile(join(examples, 'one-trust-domain.yaml'))
  if (!r.ok) throw new Error(JSON.stringify(r.errors, null, 2))
  const c = r.config
  t.equal(c.credentials.source, 'issuer')
  t.equal(c.credentials.stateDir, join(examples, '.spiffe-lb'), 'stateDir is relative to the file')
  t.same(c.workloadIdentityPools.map((p) => p.trustDomain.name), ['demo-pool.global.123456789012.workload.id.goog'])
  t.equal(c.workloadIdentityPools[0]?.additionalTrustBundles.size, 0)
  t.equal(c.backendServices[0]?.tlsSettings.identity?.spiffeId.toString(),
    'spiffe://demo-pool.global.123456789012.workload.id.goog/ns/lb/sa/frontend')
  t.same(c.backendServices[0]?.backends[0]?.endpoints.map((e) => e.host), ['127.0.0.1', '::1'])
  t.same(deriveResources(c)[0]?.trustConfig.spiffeTrustStores.map((s) => s.trustDomain), ['demo-pool.global.123456789012.workload.id.goog'])
})

t.test('(b) two trust domains, the partner anchor from a pemFile', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'spiffe-lb-example-'))
  t.teardown(async () => { await rm(dir, { recursive: true, force: true }) })
  const file = join(dir, 'two-trust-domains.yaml')
  await copyFile(join(examples, 'two-trust-domains.yaml'), file)
  const missing = await loadConfigFile(file)
  t.same(missing.ok ? [] : missing.errors.map((e) => e.code), ['ERR_SPIFFE_CONFIG_PEM_FILE'], 'the anchor file is required')
  await mkdir(join(dir, 'certs'))
  const pem = await rootPem('CN=Partner Root, O=Partner Example')
  await writeFile(join(dir, 'certs', 'partner-root.pem'), pem)
  const r = await loadConfigFile(file)
  if (!r.ok) throw new Error(JSON.stringify(r.errors, null, 2))
  const pool = r.config.workloadIdentityPools[0]
  t.same(pool?.additionalTrustBundles.trustDomains().map((d) => d.name), ['partner.example'])
  t.equal(pool?.additionalTrustBundles.get('partner.example')?.toPem(), pem)
  t.equal(pool?.inlineCertificateIssuanceConfig?.keyAlgorithm, 'ECDSA_P384')
  t.same(r.config.backendServices.map((s) => [s.name, s.localityLbPolicy]), [['internal', 'LEAST_REQUEST'], ['partner', 'RANDOM']])
  const stores = deriveResources(r.config).map((d) => d.trustConfig.spiffeTrustStores.map((s) => s.trustDomain))
  t.same(stores, [['demo-pool.global.123456789012.workload.id.goog', 'partner.example'], ['demo-pool.global.123456789012.workload.id.goog', 'partner.example']])
})

t.test('(c) credentials from a GCE file directory', async (t) => {
  const r = await loadConfigFile(join(examples, 'gce-credential-directory.yaml'))
  if (!r.ok) throw new Error(JSON.stringify(r.errors, null, 2))
  t.same(r.config.credentials, {
    source: 'directory',
    directory: '/var/run/secrets/workload-spiffe-credentials',
    metadataUrl: 'http://metadata.google.internal/computeMetadata/v1/instance/gce-workload-certificates',
    pollIntervalMs: 300_000,
    stateDir: join(examples, '.spiffe-lb')
  })
  t.equal(r.config.caPools.length, 0)
  t.equal(r.config.workloadIdentityPools[0]?.inlineCertificateIssuanceConfig, undefined)
  t.equal(r.config.frontend.listen.host, '0.0.0.0')
})

t.test('(d) federation by bundle endpoint', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'spiffe-lb-example-'))
  t.teardown(async () => { await rm(dir, { recursive: true, force: true }) })
  const file = join(dir, 'federation-bundle-endpoint.yaml')
  await copyFile(join(examples, 'federation-bundle-endpoint.yaml'), file)
  const missing = await loadConfigFile(file)
  t.same(missing.ok ? [] : missing.errors.map((e) => e.code), ['ERR_SPIFFE_CONFIG_BUNDLE_ENDPOINT_PEM', 'ERR_SPIFFE_CONFIG_BUNDLE_ENDPOINT_PEM'], 'both pem files are required')
  await mkdir(join(dir, 'certs'))
  await writeFile(join(dir, 'certs', 'partner-web-ca.pem'), await rootPem('CN=Partner Web CA'))
  await writeFile(join(dir, 'certs', 'other-bundle.pem'), await rootPem('CN=Other Root'))
  const r = await loadConfigFile(file)
  if (!r.ok) throw new Error(JSON.stringify(r.errors, null, 2))
  const pool = r.config.workloadIdentityPools[0]
  t.equal(pool?.additionalTrustBundles.size, 0, 'nothing inline: both domains are fetched')
  t.same(pool?.bundleEndpoints.map((e) => [e.trustDomain.name, e.profile, e.maxBundleAgeMs]),
    [['partner.example', 'https_web', 86_400_000], ['other.example', 'https_spiffe', 3_600_000]])
})

t.test('(g) inbound mTLS in front of a loopback application', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'spiffe-lb-example-'))
  t.teardown(async () => { await rm(dir, { recursive: true, force: true }) })
  const file = join(dir, 'inbound-mtls.yaml')
  await copyFile(join(examples, 'inbound-mtls.yaml'), file)
  await mkdir(join(dir, 'certs'))
  await writeFile(join(dir, 'certs', 'lb-pool-root.pem'), await rootPem('CN=LB Pool Root'))
  const r = await loadConfigFile(file)
  if (!r.ok) throw new Error(JSON.stringify(r.errors, null, 2))
  const p = r.config.frontend.serverTlsPolicy
  t.equal(p?.clientValidationMode, 'REJECT_INVALID')
  t.same(p?.allowedPeers?.map(String), ['spiffe://lb-pool.global.111111111111.workload.id.goog/ns/lb/sa/frontend'])
  t.equal(r.config.backendServices[0]?.protocol, 'HTTP')
  t.same(r.config.backendServices[0]?.customRequestHeaders.map((h) => h.name), ['x-client-cert-present', 'x-client-cert-chain-verified', 'x-client-cert-error', 'x-client-cert-spiffe', 'x-client-cert-hash'])
})
t.test('(e) SPIRE: any trust domain from a Workload API, no project and no pools', async (t) => {
  const r = await loadConfigFile(join(examples, 'spire-workload-api.yaml'))
  if (!r.ok) throw new Error(JSON.stringify(r.errors, null, 2))
  t.equal(r.config.project, undefined)
  t.same(r.config.workloadIdentityPools, [])
  t.equal(r.config.credentials.source, 'workload-api')
  t.equal(r.config.credentials.endpoint, 'unix:///run/spire/sockets/agent.sock')
  const identity = r.config.backendServices[0]?.tlsSettings.identity
  t.same([identity?.form, identity?.spiffeId.toString()], ['spiffe', 'spiffe://example.org/ns/lb/sa/frontend'])
  t.same(deriveResources(r.config), [], 'no cloud resources derive from a spiffe id')
})

t.test('(f) any trust domain from a directory, a partner domain from trustBundles', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'spiffe-lb-example-'))
  t.teardown(async () => { await rm(dir, { recursive: true, force: true }) })
  const file = join(dir, 'any-trust-domain-directory.yaml')
  await copyFile(join(examples, 'any-trust-domain-directory.yaml'), file)
  await mkdir(join(dir, 'certs'))
  await writeFile(join(dir, 'certs', 'partner-root.pem'), await rootPem('CN=Partner Root'))
  const r = await loadConfigFile(file)
  if (!r.ok) throw new Error(JSON.stringify(r.errors, null, 2))
  t.equal(r.config.project, undefined)
  t.equal(r.config.credentials.directory, join(dir, 'creds'))
  t.same(r.config.trustBundles.additionalTrustBundles.trustDomains().map((d) => d.name), ['partner.example'])
  t.equal(r.config.backendServices[0]?.tlsSettings.identity?.name, 'spiffe://example.org/ns/lb/sa/frontend')
  const issuer = await issuerCodes(await readFile(file, 'utf8'), dir)
  t.same(issuer, ['ERR_SPIFFE_CONFIG_REQUIRED', 'ERR_SPIFFE_CONFIG_IDENTITY_SOURCE'], 'the local issuer cannot issue a spiffe id outside every pool')
})

/** Returns the codes of the config `text` with `credentials.source: issuer`, loaded in `dir`. */
async function issuerCodes (text: string, dir: string): Promise<string[]> {
  const file = join(dir, 'issuer.yaml')
  await writeFile(file, text.replace('source: directory', 'source: issuer'))
  const r = await loadConfigFile(file)
  return r.ok ? [] : r.errors.map((e) => e.code)
}
