// Over 250 lines: one table of every broken config rule (path, code, message), read whole by the
// check that each rule has its own code.
import t from 'tap'
import type { ConfigIssue } from './issues.ts'
import { parseConfig } from './load.ts'
import { BACKEND_SERVICE_RULE, CA_POOL, IDENTITY, NUMBER, baseDoc, edit, load, rootPem, type Doc } from './testing/config-fixtures.ts'

const pem = await rootPem()
const base = baseDoc(pem)
const P = ['workloadIdentityPools', 0] as const
const CIC = [...P, 'inlineCertificateIssuanceConfig'] as const
const ATB = [...P, 'inlineTrustConfig', 'additionalTrustBundles'] as const
const NS = [...P, 'namespaces', 0] as const
const MI = [...NS, 'managedIdentities', 0] as const
const BS = ['backendServices', 0] as const
const TLS = [...BS, 'tlsSettings'] as const
const CA = ['caPools', 0, 'certificateAuthorities', 0] as const
const TD = `demo-pool.global.${NUMBER}.workload.id.goog`
const ID_RULE = 'characters of lowercase letters, digits and hyphens, starting and ending with a letter or digit'
const withIdentity = (id: string): Array<[readonly (string | number)[], unknown]> => [[[...TLS, 'identity'], id]]
const second = (over: Doc): Doc => ({ name: 'api', backends: [{ endpoints: ['127.0.0.1:9543'] }], ...over })

/** [what is broken, the document, every issue expected: [path, code, message]] */
const cases: Array<[string, Doc, Array<[string, string, string]>]> = [
  // seeds: pool ID 4-32 [a-z0-9-], starts and ends alphanumeric
  ...(['abc', '-demo', 'demo-', 'demo_pool', 'd'.repeat(33)].map((id): [string, Doc, Array<[string, string, string]>] => [
    `pool id ${id}`,
    edit(base, [[...P, 'id'], id], ...withIdentity(IDENTITY.replace('demo-pool', id))),
    [['workloadIdentityPools[0].id', 'ERR_SPIFFE_CONFIG_POOL_ID', `workload identity pool id must be 4 to 32 ${ID_RULE}, got "${id}"`]]
  ])),
  // an identity cannot name an upper-case pool (trust domains are lower case), so both are reported
  ['pool id Demo-pool', edit(base, [[...P, 'id'], 'Demo-pool']), [
    ['workloadIdentityPools[0].id', 'ERR_SPIFFE_CONFIG_POOL_ID', `workload identity pool id must be 4 to 32 ${ID_RULE}, got "Demo-pool"`],
    ['backendServices[0].tlsSettings.identity', 'ERR_SPIFFE_CONFIG_IDENTITY_POOL_NOT_FOUND', `identity "${IDENTITY}" names workload identity pool "demo-pool", which is not defined`]]],
  // seeds: namespace and managed identity IDs 2-63, same alphabet
  ['namespace id too short', edit(base, [[...NS, 'id'], 'l'], ...withIdentity(IDENTITY.replace('/ns/lb/', '/ns/l/'))),
    [['workloadIdentityPools[0].namespaces[0].id', 'ERR_SPIFFE_CONFIG_NAMESPACE_ID', `namespace id must be 2 to 63 ${ID_RULE}, got "l"`]]],
  ['namespace id with underscore', edit(base, [[...P, 'namespaces', 1, 'id'], 'my_apps']),
    [['workloadIdentityPools[0].namespaces[1].id', 'ERR_SPIFFE_CONFIG_NAMESPACE_ID', `namespace id must be 2 to 63 ${ID_RULE}, got "my_apps"`]]],
  ['managed identity id too long', edit(base, [[...P, 'namespaces', 1, 'managedIdentities', 0, 'id'], 'e'.repeat(64)]),
    [['workloadIdentityPools[0].namespaces[1].managedIdentities[0].id', 'ERR_SPIFFE_CONFIG_MANAGED_IDENTITY_ID', `managed identity id must be 2 to 63 ${ID_RULE}, got "${'e'.repeat(64)}"`]]],
  ['duplicate pool', edit(base, [['workloadIdentityPools', 1], { id: 'demo-pool' }]),
    [['workloadIdentityPools[1].id', 'ERR_SPIFFE_CONFIG_DUPLICATE_POOL', 'workload identity pool "demo-pool" is defined twice']]],
  ['duplicate namespace', edit(base, [[...P, 'namespaces', 1, 'id'], 'lb']),
    [['workloadIdentityPools[0].namespaces[1].id', 'ERR_SPIFFE_CONFIG_DUPLICATE_NAMESPACE', 'namespace "lb" is defined twice in pool "demo-pool"']]],
  ['duplicate managed identity', edit(base, [[...NS, 'managedIdentities', 1], { id: 'frontend' }]),
    [['workloadIdentityPools[0].namespaces[0].managedIdentities[1].id', 'ERR_SPIFFE_CONFIG_DUPLICATE_MANAGED_IDENTITY', 'managed identity "frontend" is defined twice in namespace "lb"']]],
  ['pool name of another project', edit(base, [[...P, 'name'], 'projects/999/locations/global/workloadIdentityPools/demo-pool']),
    [['workloadIdentityPools[0].name', 'ERR_SPIFFE_CONFIG_POOL_NAME_MISMATCH', `pool name must be "projects/${NUMBER}/locations/global/workloadIdentityPools/demo-pool" (this project's number and the pool's id), got "projects/999/locations/global/workloadIdentityPools/demo-pool"`]]],
  ['pool without id or name', edit(base, [[...P, 'id'], undefined]),
    [['workloadIdentityPools[0].id', 'ERR_SPIFFE_CONFIG_REQUIRED', 'is required (or a "name" that ends with the pool id)'],
      ['backendServices[0].tlsSettings.identity', 'ERR_SPIFFE_CONFIG_IDENTITY_POOL_NOT_FOUND', `identity "${IDENTITY}" names workload identity pool "demo-pool", which is not defined`]]],
  ['pool mode', edit(base, [[...P, 'mode'], 'FEDERATION_ONLY']),
    [['workloadIdentityPools[0].mode', 'ERR_SPIFFE_CONFIG_POOL_MODE', 'must be one of TRUST_DOMAIN, got "FEDERATION_ONLY"']]],
  // seeds: project number digits
  ['project number', edit(base, [['project', 'number'], '12345678901x']),
    [['project.number', 'ERR_SPIFFE_CONFIG_PROJECT_NUMBER', 'project number must be digits only, got "12345678901x"']]],
  ['project id', edit(base, [['project', 'id'], 'Demo']),
    [['project.id', 'ERR_SPIFFE_CONFIG_PROJECT_ID', 'project id must be 6 to 30 lowercase letters, digits or hyphens, starting with a letter and not ending with a hyphen, got "Demo"']]],
  // seeds: lifetime 24h-30d, rotation window 50-80, five key algorithms
  ...(['86399s', '2592001s'].map((lifetime): [string, Doc, Array<[string, string, string]>] => [`lifetime ${lifetime}`, edit(base, [[...CIC, 'lifetime'], lifetime]),
    [['workloadIdentityPools[0].inlineCertificateIssuanceConfig.lifetime', 'ERR_SPIFFE_CONFIG_LIFETIME', `lifetime must be between 86400s (24h) and 2592000s (30d), got "${lifetime}"`]]])),
  ['lifetime not a duration', edit(base, [[...CIC, 'lifetime'], '1d']),
    [['workloadIdentityPools[0].inlineCertificateIssuanceConfig.lifetime', 'ERR_SPIFFE_CONFIG_DURATION', 'duration must be a number with a unit (ms, s, m or h), like "500ms", "30s", "1.5s", "5m", "24h" or "1m30s", got "1d"']]],
  ['lifetime in hours', edit(base, [[...CIC, 'lifetime'], '23h']),
    [['workloadIdentityPools[0].inlineCertificateIssuanceConfig.lifetime', 'ERR_SPIFFE_CONFIG_LIFETIME', 'lifetime must be between 86400s (24h) and 2592000s (30d), got "23h"']]],
  ...([49, 81].map((pct): [string, Doc, Array<[string, string, string]>] => [`rotation window ${pct}`, edit(base, [[...CIC, 'rotationWindowPercentage'], pct]),
    [['workloadIdentityPools[0].inlineCertificateIssuanceConfig.rotationWindowPercentage', 'ERR_SPIFFE_CONFIG_ROTATION_WINDOW', `rotation window percentage must be between 50 and 80, got "${pct}"`]]])),
  ['key algorithm', edit(base, [[...CIC, 'keyAlgorithm'], 'ec-p256-sha256']),
    [['workloadIdentityPools[0].inlineCertificateIssuanceConfig.keyAlgorithm', 'ERR_SPIFFE_CONFIG_KEY_ALGORITHM', 'key algorithm must be one of ECDSA_P256, ECDSA_P384, RSA_2048, RSA_3072, RSA_4096, got "ec-p256-sha256"']]],
  // the CIC's CA pool must exist
  ['CIC names an unknown CA pool', edit(base, [[...CIC, 'caPools', 'us-central1'], CA_POOL.replace('root-pool', 'eu-pool')]),
    [['workloadIdentityPools[0].inlineCertificateIssuanceConfig.caPools.us-central1', 'ERR_SPIFFE_CONFIG_CA_POOL_NOT_FOUND', `ca pool "${CA_POOL.replace('root-pool', 'eu-pool')}" is not defined in caPools[]`]]],
  ['CIC keys a CA pool under another region', edit(base, [[...CIC, 'caPools'], { 'us-east1': CA_POOL }]),
    [['workloadIdentityPools[0].inlineCertificateIssuanceConfig.caPools.us-east1', 'ERR_SPIFFE_CONFIG_CA_POOL_REGION', `ca pool "${CA_POOL}" is in location "us-central1", not in the region "us-east1" its key names`]]],
  ['CIC without CA pools', edit(base, [[...CIC, 'caPools'], {}]),
    [['workloadIdentityPools[0].inlineCertificateIssuanceConfig.caPools', 'ERR_SPIFFE_CONFIG_EMPTY', 'must not be empty']]],
  ['CIC required for the issuer', edit(base, [[...CIC], undefined]),
    [['workloadIdentityPools[0].inlineCertificateIssuanceConfig', 'ERR_SPIFFE_CONFIG_CIC_REQUIRED', 'pool "demo-pool" needs an inlineCertificateIssuanceConfig: backendServices[0] takes its identity from it and credentials.source is "issuer"']]],
  // caPools[]
  ['CA pool name', edit(base, [['caPools', 0, 'name'], 'root-pool']),
    [['caPools[0].name', 'ERR_SPIFFE_CONFIG_CA_POOL_NAME', 'ca pool name must be "projects/PROJECT_NUMBER/locations/REGION/caPools/POOL_ID" (POOL_ID: 1 to 63 of [a-z0-9-], starting and ending with a letter or digit), got "root-pool"'],
      ['workloadIdentityPools[0].inlineCertificateIssuanceConfig.caPools.us-central1', 'ERR_SPIFFE_CONFIG_CA_POOL_NOT_FOUND', `ca pool "${CA_POOL}" is not defined in caPools[]`]]],
  ['CA pool ID', edit(base, [['caPools', 1], { name: 'projects/demo-project/locations/eu/caPools/Root_Pool', certificateAuthorities: [{ id: 'ca', subject: 'CN=x' }] }]),
    [['caPools[1].name', 'ERR_SPIFFE_CONFIG_CA_POOL_NAME', 'ca pool name must be "projects/PROJECT_NUMBER/locations/REGION/caPools/POOL_ID" (POOL_ID: 1 to 63 of [a-z0-9-], starting and ending with a letter or digit), got "projects/demo-project/locations/eu/caPools/Root_Pool"']]],
  ['CA pool of another project', edit(base, [['caPools', 1], { name: 'projects/999/locations/eu/caPools/p', certificateAuthorities: [{ id: 'ca', subject: 'CN=x' }] }]),
    [['caPools[1].name', 'ERR_SPIFFE_CONFIG_CA_POOL_PROJECT', `ca pool "projects/999/locations/eu/caPools/p" must be in this project ("${NUMBER}" or "demo-project")`]]],
  ['duplicate CA pool', edit(base, [['caPools', 1], { name: CA_POOL.replace(NUMBER, 'demo-project'), certificateAuthorities: [{ id: 'ca', subject: 'CN=x' }] }]),
    [['caPools[1].name', 'ERR_SPIFFE_CONFIG_DUPLICATE_CA_POOL', `ca pool "${CA_POOL.replace(NUMBER, 'demo-project')}" is defined twice`]]],
  ['CA id', edit(base, [[...CA, 'id'], 'root ca']),
    [['caPools[0].certificateAuthorities[0].id', 'ERR_SPIFFE_CONFIG_CA_ID', 'ca id must be 1 to 64 letters, digits, underscores or hyphens, got "root ca"']]],
  ['duplicate CA', edit(base, [['caPools', 0, 'certificateAuthorities', 1], { id: 'root-ca', subject: 'CN=Other' }]),
    [['caPools[0].certificateAuthorities[1].id', 'ERR_SPIFFE_CONFIG_DUPLICATE_CA', 'ca id "root-ca" is used twice in this pool']]],
  ['CA subject', edit(base, [[...CA, 'subject'], 'Demo Root CA']),
    [['caPools[0].certificateAuthorities[0].subject', 'ERR_SPIFFE_CONFIG_CA_SUBJECT', 'subject is not a distinguished name: subject "Demo Root CA" is not a distinguished name like "CN=Demo Root CA, O=Demo" (ERR_SPIFFE_PKI_BAD_SUBJECT)']]],
  ['CA key algorithm', edit(base, [[...CA, 'keyAlgorithm'], 'rsa-pss-2048-sha256']),
    [['caPools[0].certificateAuthorities[0].keyAlgorithm', 'ERR_SPIFFE_CONFIG_CA_KEY_ALGORITHM', 'ca key algorithm is not supported: key algorithm "rsa-pss-2048-sha256" is not one of ECDSA_P256, ECDSA_P384, RSA_2048, RSA_3072, RSA_4096, ec-p256-sha256, ec-p384-sha384, rsa-pkcs1-2048-sha256, rsa-pkcs1-3072-sha256, rsa-pkcs1-4096-sha256 (ERR_SPIFFE_PKI_UNKNOWN_KEY_ALGORITHM)']]],
  ['CA lifetime', edit(base, [[...CA, 'lifetime'], '3600s']),
    [['caPools[0].certificateAuthorities[0].lifetime', 'ERR_SPIFFE_CONFIG_CA_LIFETIME', 'ca lifetime must be at least 86400s (a ca must outlive the 24h certificates it issues), got "3600s"']]],
  ['CA pool without CAs', edit(base, [['caPools', 0, 'certificateAuthorities'], []]),
    [['caPools[0].certificateAuthorities', 'ERR_SPIFFE_CONFIG_EMPTY', 'must not be empty']]],
  // backend service identity: existing pool / namespace / identity, same project, right form
  ['identity in an unknown pool', edit(base, ...withIdentity(IDENTITY.replace('demo-pool', 'other-pool'))),
    [['backendServices[0].tlsSettings.identity', 'ERR_SPIFFE_CONFIG_IDENTITY_POOL_NOT_FOUND', `identity "${IDENTITY.replace('demo-pool', 'other-pool')}" names workload identity pool "other-pool", which is not defined`]]],
  ['identity in an unknown namespace', edit(base, ...withIdentity(IDENTITY.replace('/ns/lb/', '/ns/web/'))),
    [['backendServices[0].tlsSettings.identity', 'ERR_SPIFFE_CONFIG_IDENTITY_NAMESPACE_NOT_FOUND', `identity "${IDENTITY.replace('/ns/lb/', '/ns/web/')}" names namespace "web", which is not defined in pool "demo-pool"`]]],
  ['unknown managed identity', edit(base, ...withIdentity(IDENTITY.replace('/sa/frontend', '/sa/backend'))),
    [['backendServices[0].tlsSettings.identity', 'ERR_SPIFFE_CONFIG_IDENTITY_NOT_FOUND', `identity "${IDENTITY.replace('/sa/frontend', '/sa/backend')}" names managed identity "backend", which is not defined in namespace "lb"`]]],
  ['identity of another project', edit(base, ...withIdentity(IDENTITY.replace(NUMBER, '999'))),
    [['backendServices[0].tlsSettings.identity', 'ERR_SPIFFE_CONFIG_IDENTITY_PROJECT_MISMATCH', `identity "${IDENTITY.replace(NUMBER, '999')}" is in project number "999", but this config's project number is "${NUMBER}"`]]],
  ['identity as a spiffe id outside every pool, with the local issuer', edit(base, ...withIdentity('spiffe://example.org/ns/lb/sa/frontend')),
    [['backendServices[0].tlsSettings.identity', 'ERR_SPIFFE_CONFIG_IDENTITY_SOURCE', 'identity "spiffe://example.org/ns/lb/sa/frontend" is outside every workload identity pool, so the local issuer cannot issue it: use credentials.source directory, metadata or workload-api, which deliver the svid']]],
  ['identity as spiffe:// in a pool\'s domain gets the managed identity checks', edit(base, ...withIdentity(`spiffe:${IDENTITY.replace('/sa/frontend', '/sa/backend')}`)),
    [['backendServices[0].tlsSettings.identity', 'ERR_SPIFFE_CONFIG_IDENTITY_NOT_FOUND', `identity "spiffe:${IDENTITY.replace('/sa/frontend', '/sa/backend')}" names managed identity "backend", which is not defined in namespace "lb"`]]],
  ['no project, with pools', edit(base, [['project'], undefined]),
    [['project', 'ERR_SPIFFE_CONFIG_REQUIRED', 'is required: workloadIdentityPools are declared']]],
  // seeds: identity excludes sni, subjectAltNames, authenticationConfig
  ...(['sni', 'subjectAltNames', 'authenticationConfig'].map((key): [string, Doc, Array<[string, string, string]>] => [
    `identity with ${key}`, edit(base, [[...TLS, key], key === 'subjectAltNames' ? [{ dnsName: 'backend.example' }] : 'x']),
    [[`backendServices[0].tlsSettings.${key}`, 'ERR_SPIFFE_CONFIG_IDENTITY_EXCLUSIVE', `tlsSettings.${key} cannot be set together with tlsSettings.identity (managed identity creates it)`]]])),
  // attestation for //compute.googleapis.com/projects/N/type/BackendService/NAME, per backend service
  ['attestation denied, for each backend service',
    edit(base, [[...MI, 'attestationRules'], [{ googleCloudResource: `//compute.googleapis.com/projects/${NUMBER}/type/BackendService/web` }]],
      [['backendServices', 1], second({ tlsSettings: { identity: IDENTITY } })], [['backendServices', 2], second({ name: 'admin', tlsSettings: { identity: IDENTITY } })],
      [['urlMap', 'pathMatchers'], [{ name: 'm', defaultService: 'api', pathRules: [{ paths: ['/admin/*'], service: 'admin' }] }]], [['urlMap', 'hostRules'], [{ hosts: ['*'], pathMatcher: 'm' }]]),
    ['api', 'admin'].map((name, i) => [`backendServices[${i + 1}].tlsSettings.identity`, 'ERR_SPIFFE_CONFIG_ATTESTATION_DENIED',
      `identity "${IDENTITY}" is not attested for "//compute.googleapis.com/projects/${NUMBER}/type/BackendService/${name}": no attestation rule matches (rules: "//compute.googleapis.com/projects/${NUMBER}/type/BackendService/web")`])],
  ['attestation with no rules', edit(base, [[...MI, 'attestationRules'], undefined]),
    [['backendServices[0].tlsSettings.identity', 'ERR_SPIFFE_CONFIG_ATTESTATION_DENIED', `identity "${IDENTITY}" is not attested for "//compute.googleapis.com/projects/${NUMBER}/type/BackendService/web": no attestation rule matches (rules: none)`]]],
  ['attestation rule form', edit(base, [[...MI, 'attestationRules', 1], { googleCloudResource: 'compute.googleapis.com/projects/1/type/BackendService/*' }]),
    [['workloadIdentityPools[0].namespaces[0].managedIdentities[0].attestationRules[1].googleCloudResource', 'ERR_SPIFFE_CONFIG_ATTESTATION_RULE', `attestation rule must be a resource name like "${BACKEND_SERVICE_RULE}", got "compute.googleapis.com/projects/1/type/BackendService/*"`]]],
  // trust bundles: a domain listed twice in one map is an error; anchors must be usable
  ['trust domain listed twice', edit(base, [[...ATB, 'spiffe://partner.example'], { trustAnchors: [{ pemCertificate: pem }] }]),
    [['workloadIdentityPools[0].inlineTrustConfig.additionalTrustBundles["spiffe://partner.example"]', 'ERR_SPIFFE_CONFIG_DUPLICATE_TRUST_DOMAIN', 'trust domain "partner.example" is already listed as "partner.example"; a bundle map has one entry per domain']]],
  ['trust domain name', edit(base, [[...ATB, 'Partner.Example'], { trustAnchors: [{ pemCertificate: pem }] }]),
    [['workloadIdentityPools[0].inlineTrustConfig.additionalTrustBundles["Partner.Example"]', 'ERR_SPIFFE_CONFIG_TRUST_DOMAIN', /^"Partner.Example" is not a valid trust domain: .*\(ERR_SPIFFE_TRUST_DOMAIN_\w+\)$/.source]]],
  ['trust anchor not a certificate', edit(base, [[...ATB, 'partner.example', 'trustAnchors', 0, 'pemCertificate'], '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----']),
    [['workloadIdentityPools[0].inlineTrustConfig.additionalTrustBundles["partner.example"].trustAnchors[0].pemCertificate', 'ERR_SPIFFE_CONFIG_TRUST_ANCHOR_INVALID', /^trust anchor is not a usable pem certificate: .*\(ERR_SPIFFE_BUNDLE_BAD_CERTIFICATE\)$/.source]]],
  ['trust anchor with both sources', edit(base, [[...ATB, 'partner.example', 'trustAnchors', 0, 'pemFile'], 'x.pem']),
    [['workloadIdentityPools[0].inlineTrustConfig.additionalTrustBundles["partner.example"].trustAnchors[0]', 'ERR_SPIFFE_CONFIG_TRUST_ANCHOR_SOURCE', 'a trust anchor needs exactly one of "pemCertificate" or "pemFile"']]],
  ['trust anchor file missing', edit(base, [[...ATB, 'partner.example', 'trustAnchors', 0], { pemFile: 'certs/none.pem' }]),
    [['workloadIdentityPools[0].inlineTrustConfig.additionalTrustBundles["partner.example"].trustAnchors[0].pemFile', 'ERR_SPIFFE_CONFIG_PEM_FILE', 'cannot read pem file "/nonexistent/certs/none.pem": ENOENT']]],
  ['trust domain without anchors', edit(base, [[...ATB, 'partner.example', 'trustAnchors'], []]),
    [['workloadIdentityPools[0].inlineTrustConfig.additionalTrustBundles["partner.example"].trustAnchors', 'ERR_SPIFFE_CONFIG_EMPTY', 'must not be empty']]],
  ['both trust maps', edit(base, [[...P, 'inlineTrustConfig', 'spiffeTrustStores'], {}]),
    [['workloadIdentityPools[0].inlineTrustConfig.spiffeTrustStores', 'ERR_SPIFFE_CONFIG_TRUST_CONFIG_BOTH', 'use either "additionalTrustBundles" or a pasted "spiffeTrustStores", not both']]],
  // url map services and path matchers must exist
  ['url map references', edit(base, [['urlMap'], {
    defaultService: 'nope',
    hostRules: [{ hosts: ['a.test'], pathMatcher: 'missing' }, { hosts: ['A.test'], pathMatcher: 'pm' }],
    pathMatchers: [{ name: 'pm', defaultService: 'web', pathRules: [{ paths: ['/v1/*', '/v2*', 'v3'], service: 'gone' }] }, { name: 'pm', defaultService: 'web' }]
  }]), [
    ['urlMap.defaultService', 'ERR_SPIFFE_CONFIG_URL_MAP_SERVICE_NOT_FOUND', 'backend service "nope" is not defined in backendServices[]'],
    ['urlMap.pathMatchers[0].pathRules[0].service', 'ERR_SPIFFE_CONFIG_URL_MAP_SERVICE_NOT_FOUND', 'backend service "gone" is not defined in backendServices[]'],
    ['urlMap.pathMatchers[0].pathRules[0].paths[1]', 'ERR_SPIFFE_CONFIG_PATH_RULE', 'path must start with "/" and may only end with "/*", got "/v2*"'],
    ['urlMap.pathMatchers[0].pathRules[0].paths[2]', 'ERR_SPIFFE_CONFIG_PATH_RULE', 'path must start with "/" and may only end with "/*", got "v3"'],
    ['urlMap.pathMatchers[1].name', 'ERR_SPIFFE_CONFIG_DUPLICATE_PATH_MATCHER', 'path matcher "pm" is defined twice'],
    ['urlMap.hostRules[0].pathMatcher', 'ERR_SPIFFE_CONFIG_PATH_MATCHER_NOT_FOUND', 'path matcher "missing" is not defined in urlMap.pathMatchers[]'],
    ['urlMap.hostRules[1].hosts[0]', 'ERR_SPIFFE_CONFIG_DUPLICATE_HOST', 'host "A.test" appears in more than one host rule']
  ]],
  ['url map needed for two services', edit(base, [['urlMap'], undefined], [['backendServices', 1], second({})]),
    [['urlMap', 'ERR_SPIFFE_CONFIG_URL_MAP_REQUIRED', 'is required when there is more than one backend service (2)']]],
  // backend service names unique and well formed
  ['duplicate backend service', edit(base, [['backendServices', 1], second({ name: 'web' })]),
    [['backendServices[1].name', 'ERR_SPIFFE_CONFIG_DUPLICATE_BACKEND_SERVICE', 'backend service name "web" is used twice']]],
  ['backend service name', edit(base, [[...BS, 'name'], 'Web_1'], [['urlMap', 'defaultService'], 'Web_1']),
    [['backendServices[0].name', 'ERR_SPIFFE_CONFIG_BACKEND_SERVICE_NAME', 'backend service name must be 1 to 63 characters of lowercase letters, digits and hyphens, starting with a letter and not ending with a hyphen, got "Web_1"']]],
  ['endpoint', edit(base, [[...BS, 'backends', 0, 'endpoints', 1], '::1:9443']),
    [['backendServices[0].backends[0].endpoints[1]', 'ERR_SPIFFE_CONFIG_ENDPOINT', 'address must be "host:port" (IPv6 as "[::1]:port") with port 1-65535: IPv6 addresses need brackets, got "::1:9443"']]],
  ['health check', edit(base, [[...BS, 'healthCheck'], { requestPath: 'healthz', checkIntervalSec: 2, timeoutSec: 3 }]), [
    ['backendServices[0].healthCheck.requestPath', 'ERR_SPIFFE_CONFIG_HEALTH_CHECK_PATH', 'request path must start with "/", got "healthz"'],
    ['backendServices[0].healthCheck.timeoutSec', 'ERR_SPIFFE_CONFIG_HEALTH_CHECK_TIMEOUT', 'health check timeoutSec must not exceed checkIntervalSec (2), got "3"']]],
  ['cleartext protocol', edit(base, [[...BS, 'protocol'], 'HTTP']), [
    ['backendServices[0].protocol', 'ERR_SPIFFE_CONFIG_PROTOCOL_CLEARTEXT', 'protocol "HTTP" is cleartext: without frontend.serverTlsPolicy the proxy proves its SVID and verifies the backend\'s only inside a TLS handshake, so use HTTPS (HTTP/1.1) or HTTP2 over mTLS']]],
  ['protocol and policy', edit(base, [[...BS, 'protocol'], 'GRPC'], [[...BS, 'localityLbPolicy'], 'MAGLEV']), [
    ['backendServices[0].protocol', 'ERR_SPIFFE_CONFIG_PROTOCOL', 'must be one of HTTPS, HTTP2, HTTP, got "GRPC"'],
    ['backendServices[0].localityLbPolicy', 'ERR_SPIFFE_CONFIG_LB_POLICY', 'must be one of ROUND_ROBIN, LEAST_REQUEST, RANDOM, got "MAGLEV"']]],
  // listen addresses valid
  ['listen addresses', edit(base, [['frontend', 'listen'], 'localhost'], [['admin', 'listen'], '[::1]:99999']), [
    ['frontend.listen', 'ERR_SPIFFE_CONFIG_LISTEN', 'address must be "host:port" (IPv6 as "[::1]:port") with port 0-65535: no port, got "localhost"'],
    ['admin.listen', 'ERR_SPIFFE_CONFIG_LISTEN', 'address must be "host:port" (IPv6 as "[::1]:port") with port 0-65535: port 99999 is out of range, got "[::1]:99999"']]],
  ['listen conflict', edit(base, [['admin', 'listen'], '127.0.0.1:8080']),
    [['admin.listen', 'ERR_SPIFFE_CONFIG_LISTEN_CONFLICT', 'admin and frontend cannot both listen on "127.0.0.1:8080"']]],
  ['admin allowed hosts', edit(base, [['admin', 'allowedHosts'], ['metrics.example', 'http://x.example', 'x.example:9901', '-bad.example']]), [
    ['admin.allowedHosts[1]', 'ERR_SPIFFE_CONFIG_ADMIN_HOST', 'admin.allowedHosts[1] must be a dns name without port or scheme, got "http://x.example"'],
    ['admin.allowedHosts[2]', 'ERR_SPIFFE_CONFIG_ADMIN_HOST', 'admin.allowedHosts[2] must be a dns name without port or scheme, got "x.example:9901"'],
    ['admin.allowedHosts[3]', 'ERR_SPIFFE_CONFIG_ADMIN_HOST', 'admin.allowedHosts[3] must be a dns name without port or scheme, got "-bad.example"']]],
  // credentials
  ['credentials', edit(base, [['credentials'], { source: 'metadata', metadataUrl: 'ftp://x', pollInterval: '0s' }]), [
    ['credentials.metadataUrl', 'ERR_SPIFFE_CONFIG_METADATA_URL', 'metadata url must be an http or https url, got "ftp://x"'],
    ['credentials.pollInterval', 'ERR_SPIFFE_CONFIG_POLL_INTERVAL', 'poll interval must be more than 0s, got "0s"']]],
  ['credentials source', edit(base, [['credentials', 'source'], 'vault']),
    [['credentials.source', 'ERR_SPIFFE_CONFIG_CREDENTIALS_SOURCE', 'must be one of issuer, directory, metadata, workload-api, got "vault"']]],
  // structure
  ['structure', edit(base, [[...BS, 'timeoutsec'], 3], [[...BS, 'timeoutSec'], '30'], [[...BS, 'backends'], []]), [
    ['backendServices[0].timeoutSec', 'ERR_SPIFFE_CONFIG_TYPE', 'must be a number, got string "30"'],
    ['backendServices[0].backends', 'ERR_SPIFFE_CONFIG_EMPTY', 'must not be empty'],
    ['backendServices[0].timeoutsec', 'ERR_SPIFFE_CONFIG_UNKNOWN_KEY', 'unknown key "timeoutsec": did you mean "timeoutSec"?']]],
  ['unknown keys, near one and far from all', edit(base, [[...BS, 'healthCheck'], { requestPth: '/healthz' }], [['frontend', 'zzz'], 1]), [
    ['backendServices[0].healthCheck.requestPth', 'ERR_SPIFFE_CONFIG_UNKNOWN_KEY', 'unknown key "requestPth": did you mean "requestPath"?'],
    ['frontend.zzz', 'ERR_SPIFFE_CONFIG_UNKNOWN_KEY', 'unknown key "zzz" (misspelt, or not supported here; known keys: listen, tls, serverTlsPolicy, allowTrace, limits)']]],
  ['range', edit(base, [[...BS, 'timeoutSec'], 0]),
    [['backendServices[0].timeoutSec', 'ERR_SPIFFE_CONFIG_RANGE', 'must be at least 1, got "0"']]]
]

/** Returns the issues as [path, code, message] for comparison. */
function triples (errors: readonly ConfigIssue[]): Array<[string, string, string]> {
  return errors.map((e) => [e.path, e.code, e.message])
}

t.test('the base document is valid', async (t) => {
  const r = load(base)
  t.same(r.ok ? [] : triples(r.errors), [])
})

t.test('each broken rule is reported with its path, code and message', async (t) => {
  for (const [what, doc, want] of cases) {
    const r = load(doc)
    if (r.ok) { t.fail(`${what}: loaded`); continue }
    const got = triples(r.errors)
    t.equal(got.length, want.length, `${what}: ${JSON.stringify(got)}`)
    want.forEach(([path, code, message], i) => {
      t.equal(got[i]?.[0], path, `${what}: path`)
      t.equal(got[i]?.[1], code, `${what}: code`)
      if (message.startsWith('^')) t.match(got[i]?.[2], new RegExp(message), `${what}: message`)
      else t.equal(got[i]?.[2], message, `${what}: message`)
    })
  }
})

t.test('every rule has its own code', async (t) => {
  const codes = new Set(cases.flatMap(([, , want]) => want.map(([, code]) => code)))
  t.ok(codes.size >= 50, `${codes.size} distinct codes are exercised`)
})

t.test('several errors are reported together', async (t) => {
  const doc = edit(base,
    [[...P, 'namespaces', 1, 'id'], 'x'],
    [[...CIC, 'lifetime'], '3600s'],
    [[...CIC, 'rotationWindowPercentage'], 90],
    [[...TLS, 'sni'], 'backend.example'],
    [[...BS, 'backends', 0, 'endpoints', 0], '127.0.0.1'],
    [['admin', 'listen'], 'nowhere'])
  const r = load(doc)
  t.notOk(r.ok)
  t.same(r.ok ? [] : r.errors.map((e) => `${e.path} ${e.code}`), [
    'workloadIdentityPools[0].inlineCertificateIssuanceConfig.lifetime ERR_SPIFFE_CONFIG_LIFETIME',
    'workloadIdentityPools[0].inlineCertificateIssuanceConfig.rotationWindowPercentage ERR_SPIFFE_CONFIG_ROTATION_WINDOW',
    'workloadIdentityPools[0].namespaces[1].id ERR_SPIFFE_CONFIG_NAMESPACE_ID',
    'backendServices[0].tlsSettings.sni ERR_SPIFFE_CONFIG_IDENTITY_EXCLUSIVE',
    'backendServices[0].backends[0].endpoints[0] ERR_SPIFFE_CONFIG_ENDPOINT',
    'admin.listen ERR_SPIFFE_CONFIG_LISTEN'
  ])
})

t.test('text-level problems', async (t) => {
  const text = (s: string, format?: 'json'): string[] => {
    const r = parseConfig(s, { source: 't', baseDir: '/', ...(format === undefined ? {} : { format }) })
    return r.ok ? [] : r.errors.map((e) => `${e.path}|${e.code}`)
  }
  t.same(text('project: [\n'), ['|ERR_SPIFFE_CONFIG_SYNTAX'], 'yaml syntax')
  t.same(text('{"project": }', 'json'), ['|ERR_SPIFFE_CONFIG_SYNTAX'], 'json syntax')
  // One unclosed quote makes the parser report a dozen errors; only the first is the user's.
  const cascade = parseConfig('project: { id: demo-project, number: "1" }\nbackendServices:\n  - name: web\n    tlsSettings:\n      identity: "//unclosed\n    backends:\n      - endpoints: ["127.0.0.1:1"]\n  - name: x\n    backends: [ { endpoints: ["a:1"] }\nfrontend: { listen: "127.0.0.1:0"\n', { source: 't', baseDir: '/' })
  t.same(cascade.ok ? [] : cascade.errors.map((e) => [e.code, e.message]), [['ERR_SPIFFE_CONFIG_SYNTAX', 'not valid yaml at line 5, column 28: missing closing "quote']],
    'a syntax error alone, with its line and column')
  t.same(text('- a\n- b\n'), ['|ERR_SPIFFE_CONFIG_TYPE'], 'not a mapping')
  const dup = `workloadIdentityPools:
  - id: demo-pool
    inlineTrustConfig:
      additionalTrustBundles:
        partner.example: { trustAnchors: [] }
        partner.example: { trustAnchors: [] }
    namespaces: []
    namespaces: []
`
  t.same(text(dup), [
    'workloadIdentityPools[0].inlineTrustConfig.additionalTrustBundles["partner.example"]|ERR_SPIFFE_CONFIG_DUPLICATE_TRUST_DOMAIN',
    'workloadIdentityPools[0].namespaces|ERR_SPIFFE_CONFIG_DUPLICATE_KEY'
  ], 'duplicate keys, trust domains by their own code')
  t.same(text('{"project": {"id": "demo-project", "id": "x"}}', 'json'), ['project.id|ERR_SPIFFE_CONFIG_DUPLICATE_KEY'], 'json duplicate key')
})

t.test('a directory or metadata source needs no CIC or CA pools', async (t) => {
  for (const source of ['directory', 'metadata']) {
    const r = load(edit(base, [[...CIC], undefined], [['caPools'], undefined], [['credentials', 'source'], source]))
    t.same(r.ok ? [] : triples(r.errors), [], source)
  }
})

t.test('broken project number does not cascade into every reference', async (t) => {
  const r = load(edit(base, [['project', 'number'], 'none'], [[...P, 'name'], `projects/${NUMBER}/locations/global/workloadIdentityPools/demo-pool`]))
  t.same(r.ok ? [] : r.errors.map((e) => e.code), ['ERR_SPIFFE_CONFIG_PROJECT_NUMBER'])
})

t.test('the resolved config', async (t) => {
  const r = load(edit(base, [[...BS, 'backends', 0, 'endpoints', 1], '[::1]:9444'], [[...BS, 'healthCheck'], { requestPath: '/healthz' }]))
  if (!r.ok) throw new Error(JSON.stringify(r.errors))
  const c = r.config
  const pool = c.workloadIdentityPools[0]
  t.equal(pool?.trustDomain.name, TD)
  t.equal(pool?.inlineCertificateIssuanceConfig?.lifetimeMs, 86_400_000)
  t.same(pool?.additionalTrustBundles.trustDomains().map((d) => d.name), ['partner.example'])
  const svc = c.backendServices[0]
  t.equal(svc?.tlsSettings.identity?.spiffeId.toString(), `spiffe://${TD}/ns/lb/sa/frontend`)
  t.equal(svc?.tlsSettings.identity?.name, IDENTITY)
  t.equal(svc?.resource, `//compute.googleapis.com/projects/${NUMBER}/type/BackendService/web`)
  t.same(svc?.backends[0]?.endpoints.map((e) => [e.host, e.port]), [['127.0.0.1', 9443], ['::1', 9444]])
  t.same(svc?.healthCheck, { requestPath: '/healthz', checkIntervalMs: 5000, timeoutMs: 5000, healthyThreshold: 2, unhealthyThreshold: 2 })
  t.same(svc?.connectionPool, { maxRequestsPerConnection: 0, tlsSessionResumption: true, maxConcurrentStreams: 100 })
  t.equal(svc?.timeoutMs, 30_000)
  t.equal(svc?.localityLbPolicy, 'ROUND_ROBIN')
  t.same(c.caPools[0]?.certificateAuthorities[0], { id: 'root-ca', subject: 'CN=Demo Root CA, O=Demo', keyAlgorithm: 'ECDSA_P256', maxChainLength: 1, lifetimeMs: 315_360_000_000 })
  t.same(c.credentials, {
    source: 'issuer',
    directory: '/var/run/secrets/workload-spiffe-credentials',
    metadataUrl: 'http://metadata.google.internal/computeMetadata/v1/instance/gce-workload-certificates',
    pollIntervalMs: 300_000,
    stateDir: '/nonexistent/.spiffe-lb'
  })
  t.same(c.urlMap, { defaultService: 'web', hostRules: [], pathMatchers: [] })
})

t.test('connectionPool.keyExchangeGroups: absent by default, kept in order when given, never empty', async (t) => {
  const r = load(edit(base, [[...BS, 'connectionPool'], { keyExchangeGroups: ['X25519MLKEM768', 'X25519'] }]))
  if (!r.ok) throw new Error(JSON.stringify(r.errors))
  t.same(r.config.backendServices[0]?.connectionPool.keyExchangeGroups, ['X25519MLKEM768', 'X25519'])
  const empty = load(edit(base, [[...BS, 'connectionPool'], { keyExchangeGroups: [] }]))
  t.equal(empty.ok, false)
})

t.test('gcloud default CA key algorithm is rsa-pkcs1-4096-sha256', async (t) => {
  const r = load(edit(base, [[...CA, 'keyAlgorithm'], undefined]))
  t.equal(r.ok ? r.config.caPools[0]?.certificateAuthorities[0]?.keyAlgorithm : 'failed', 'RSA_4096')
})
