import t from 'tap'
import { parse } from 'yaml'
import { deriveResources } from './derived.ts'
import { renderDescribe } from './describe.ts'
import { parseConfig } from './load.ts'
import { rootPem } from './testing/config-fixtures.ts'

// Copied verbatim from the seeds (gcloud describe outputs and JSON files of "Set up backend mTLS
// using managed workload identity"), placeholders included. The pool output's PEM blocks are
// indented like the documentation prints them (at the column of their key).
const POOL_DESCRIBE = `inlineCertificateIssuanceConfig:
    caPools:
      REGION: projects/PROJECT_NUMBER/locations/REGION1/caPools/ROOT_CA_POOL_ID
    keyAlgorithm: ALGORITHM
    lifetime: CERTIFICATE_LIFETIME
    rotationWindowPercentage: ROTATION_WINDOW_PERCENTAGE
inlineTrustConfig:
    additionalTrustBundles:
      TRUST_DOMAIN_NAME1:
          trustAnchors:
          - pemCertificate: |-
            -----BEGIN CERTIFICATE-----
            CERTIFICATE_MATERIAL1
            -----END CERTIFICATE-----
          - pemCertificate: |-
            -----BEGIN CERTIFICATE-----
            CERTIFICATE_MATERIAL2
            -----END CERTIFICATE-----
      TRUST_DOMAIN_NAME2:
          trustAnchors:
          - pemCertificate: |-
            -----BEGIN CERTIFICATE-----
            CERTIFICATE_MATERIAL3
            -----END CERTIFICATE-----
          - pemCertificate: |-
            -----BEGIN CERTIFICATE-----
            CERTIFICATE_MATERIAL4
            -----END CERTIFICATE-----
mode: TRUST_DOMAIN
name: projects/PROJECT_NUMBER/name/locations/global/workloadIdentityPools/WORKLOAD_IDENTITY_POOL_ID
state: ACTIVE`

const TRUST_CONFIG_DESCRIBE = `createTime: '2025-11-06T10:15:50.048030758Z'
etag: kDoKfm5W6Il2HPvduKZWpuYpyrKrNVq4jqMEICE-6rQ
name: projects/PROJECT_ID/locations/global/trustConfigs/mi-tc-e4f05160-f20f-4109-aae3-4c1a68891742
spiffeTrustStores:
  example.com:
    trustAnchors:
    - pemCertificate: -----BEGIN CERTIFICATE-----\\nCERTIFICATE_MATERIAL1\\n-----END CERTIFICATE-----
  WORKLOAD_IDENTITY_POOL_ID.global.PROJECT_NUMBER.workload.id.goog:
    trustAnchors:
    - pemCertificate: -----BEGIN CERTIFICATE-----\\nCERTIFICATE_MATERIAL2\\n-----END CERTIFICATE-----
updateTime: '2025-11-07T08:25:15.760754841Z'`

const CIC_JSON = `{
  "inlineCertificateIssuanceConfig": {
      "caPools": {
        "REGION": "projects/PROJECT_NUMBER/locations/REGION/caPools/ROOT_CA_POOL_ID",
      },
      "lifetime": "CERTIFICATE_LIFETIME",
      "rotationWindowPercentage": ROTATION_WINDOW_PERCENTAGE,
      "keyAlgorithm": "ALGORITHM"
  }
}`

const TC_JSON = `{
  "inlineTrustConfig": {
    "additionalTrustBundles": {
      "TRUST_DOMAIN_NAME1": {
        "trustAnchors": [
          {
              "pemCertificate": "-----BEGIN CERTIFICATE-----\\nCERTIFICATE_MATERIAL1\\n-----END CERTIFICATE-----"
          }
        ]
      }
    }
  }
}`

const pems = await Promise.all([1, 2, 3, 4].map(async (i) => await rootPem(`CN=Root ${i}, O=Seeds`)))
/** The base64 lines of generated certificate `i` (1-based). */
const body = (i: number): string[] => (pems[i - 1] ?? '').trim().split('\n').slice(1, -1)
const TD = 'demo-pool.global.123456789012.workload.id.goog'

/** Returns a seed text with its placeholders replaced; PEM material keeps the line's indentation, or joins with "\n" escapes. */
function fill (text: string): string {
  return text.split('\n').flatMap((line) => {
    const m = /^( *)CERTIFICATE_MATERIAL(\d)$/.exec(line)
    if (m !== null) return body(Number(m[2])).map((l) => `${m[1] ?? ''}${l}`)
    return [line.replace(/CERTIFICATE_MATERIAL(\d)/g, (_, i: string) => body(Number(i)).join('\\n'))
      .replace(/PROJECT_NUMBER/g, '123456789012').replace(/PROJECT_ID/g, 'demo-project')
      .replace(/REGION1?/g, 'us-central1').replace(/ROOT_CA_POOL_ID/g, 'root-pool')
      .replace(/ROTATION_WINDOW_PERCENTAGE/g, '60').replace(/CERTIFICATE_LIFETIME/g, '172800s').replace(/ALGORITHM/g, 'ECDSA_P384')
      .replace(/TRUST_DOMAIN_NAME1/g, 'partner.example').replace(/TRUST_DOMAIN_NAME2/g, 'other.example')
      .replace(/WORKLOAD_IDENTITY_POOL_ID/g, 'demo-pool')]
  }).join('\n')
}

/** Returns `text` as the body of a list item (or mapping value) indented by `n`. */
function indent (text: string, n: number, first = ' '.repeat(n)): string {
  return text.split('\n').map((l, i) => (i === 0 ? first : ' '.repeat(n)) + l).join('\n')
}

/** Returns a whole config around one pasted pool entry. */
function configWith (poolEntry: string): string {
  return `project: { id: demo-project, number: "123456789012" }
caPools:
  - name: projects/123456789012/locations/us-central1/caPools/root-pool
    certificateAuthorities: [{ id: root-ca, subject: "CN=Demo Root CA, O=Demo", keyAlgorithm: ec-p256-sha256 }]
workloadIdentityPools:
${poolEntry}
backendServices:
  - name: web
    tlsSettings: { identity: //demo-pool.global.123456789012.workload.id.goog/ns/lb/sa/frontend }
    backends: [{ endpoints: ["127.0.0.1:9443"] }]
`
}
const NAMESPACES = `namespaces:
  - id: lb
    managedIdentities:
      - id: frontend
        attestationRules: [{ googleCloudResource: //compute.googleapis.com/projects/123456789012/type/BackendService/* }]`

t.test('a pasted `workload-identity-pools describe` output loads', async (t) => {
  const text = configWith(`${indent(fill(POOL_DESCRIBE), 4, '  - ')}\n${indent(NAMESPACES, 4)}`)
  const r = parseConfig(text, { source: 'pasted.yaml', baseDir: '/' })
  if (!r.ok) throw new Error(JSON.stringify(r.errors, null, 2))
  const pool = r.config.workloadIdentityPools[0]
  t.equal(pool?.id, 'demo-pool', 'the pool id comes from the pasted name')
  t.equal(pool?.name, 'projects/123456789012/locations/global/workloadIdentityPools/demo-pool')
  t.same(pool?.inlineCertificateIssuanceConfig, {
    caPools: { 'us-central1': 'projects/123456789012/locations/us-central1/caPools/root-pool' },
    lifetimeMs: 172_800_000,
    rotationWindowPercentage: 60,
    keyAlgorithm: 'ECDSA_P384'
  })
  t.equal(pool?.additionalTrustBundles.get('partner.example')?.toPem(), `${pems[0]}${pems[1]}`, 'two anchors, in order')
  t.equal(pool?.additionalTrustBundles.get('other.example')?.toPem(), `${pems[2]}${pems[3]}`)
  // describe prints it back in the same shape
  const described = parse(renderDescribe(r.config, { kind: 'workload-identity-pools' })) as Record<string, unknown>
  t.same(described, {
    inlineCertificateIssuanceConfig: { caPools: { 'us-central1': 'projects/123456789012/locations/us-central1/caPools/root-pool' }, keyAlgorithm: 'ECDSA_P384', lifetime: '172800s', rotationWindowPercentage: 60 },
    inlineTrustConfig: {
      additionalTrustBundles: {
        'partner.example': { trustAnchors: [{ pemCertificate: pems[0]?.trim() }, { pemCertificate: pems[1]?.trim() }] },
        'other.example': { trustAnchors: [{ pemCertificate: pems[2]?.trim() }, { pemCertificate: pems[3]?.trim() }] }
      }
    },
    mode: 'TRUST_DOMAIN',
    name: 'projects/123456789012/locations/global/workloadIdentityPools/demo-pool',
    state: 'ACTIVE'
  })
})

t.test('a pasted `trust-configs describe` output (spiffeTrustStores, one-line PEMs) loads as the inline trust config', async (t) => {
  const entry = `  - id: demo-pool\n    inlineTrustConfig:\n${indent(fill(TRUST_CONFIG_DESCRIBE), 6)}\n${indent(NAMESPACES, 4)}`
  const r = parseConfig(configWith(entry), { source: 'pasted.yaml', baseDir: '/' })
  t.same(r.ok ? [] : r.errors.map((e) => e.code), ['ERR_SPIFFE_CONFIG_CIC_REQUIRED'], 'with the issuer a CIC is required')
  // the pool has no CIC of its own here: take credentials from a directory
  const ok = parseConfig(`${configWith(entry)}credentials: { source: directory }\n`, { source: 'pasted.yaml', baseDir: '/' })
  if (!ok.ok) throw new Error(JSON.stringify(ok.errors, null, 2))
  const bundles = ok.config.workloadIdentityPools[0]?.additionalTrustBundles
  t.same(bundles?.trustDomains().map((d) => d.name).sort(), [TD, 'example.com'], 'the pool\'s own domain is allowed')
  t.equal(bundles?.get('example.com')?.toPem(), pems[0])
  // the own domain's anchors join the delivered roots in the derived trust config
  const derived = deriveResources(ok.config, { trustDomainRootsPem: new Map([[TD, pems[3] ?? '']]) })[0]
  t.same(derived?.trustConfig.spiffeTrustStores.map((s) => [s.trustDomain, s.anchorsPem]), [
    [TD, [pems[3]?.trim(), pems[1]?.trim()]],
    ['example.com', [pems[0]?.trim()]]
  ])
  t.same(derived?.trustConfig.bundles.get(TD)?.authorities.length, 2)
})

t.test('the seeds\' cic.json and tc.json (JSON inside YAML) load', async (t) => {
  const cic = (parse(fill(CIC_JSON)) as { inlineCertificateIssuanceConfig: unknown }).inlineCertificateIssuanceConfig
  const tc = (parse(fill(TC_JSON)) as { inlineTrustConfig: unknown }).inlineTrustConfig
  const entry = `  - id: demo-pool\n    inlineCertificateIssuanceConfig: ${JSON.stringify(cic)}\n    inlineTrustConfig: ${JSON.stringify(tc)}\n${indent(NAMESPACES, 4)}`
  const r = parseConfig(configWith(entry), { source: 'pasted.yaml', baseDir: '/' })
  if (!r.ok) throw new Error(JSON.stringify(r.errors, null, 2))
  t.equal(r.config.workloadIdentityPools[0]?.inlineCertificateIssuanceConfig?.rotationWindowPercentage, 60)
  t.equal(r.config.workloadIdentityPools[0]?.additionalTrustBundles.get('partner.example')?.toPem(), pems[0])
})
