import { mkdir, writeFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { openCaPool } from '../control/ca-pool-store.ts'
import { formatHostPort } from '../internal/host-port.ts'
import type { CertificateAuthority } from '../pki/ca-types.ts'
import { issueSvidCertificate } from '../pki/svid-certificate.ts'
import { writeInboundCredentials, type DemoInbound } from './up-inbound.ts'
import { DAY_MS, MINUTE_MS } from '../defaults.ts'

/** The fixed names of the embedded demo, shaped like the seeds' example resources. */
export const DEMO = {
  projectId: 'demo-project',
  projectNumber: '123456789012',
  region: 'us-central1',
  caPoolId: 'root-pool',
  poolId: 'demo-pool',
  get trustDomain () { return `${this.poolId}.global.${this.projectNumber}.workload.id.goog` },
  partnerDomain: 'partner.example',
  untrustedDomain: 'untrusted.example'
} as const

/** One demo backend: where its credentials are and what it proves. */
export interface DemoBackend {
  name: string
  spiffeId: string
  trustDomain: string
  /** Path prefix the demo url map routes to it ('' = default service). */
  route: string
  service: string
  certFile: string
  keyFile: string
  /** `TD=FILE` trust bundles the backend uses to verify the proxy. */
  bundles: string[]
}

/** Everything `up` created on disk. */
export interface DemoWorld {
  dir: string
  stateDir: string
  partnerRootFile: string
  backends: DemoBackend[]
  /** The inbound hop: a spiffe-lb inbound listener (partner domain) in front of a plain app. */
  inbound: DemoInbound
}

/**
 * Creates (or reuses) the demo's CAs under `dir/state` and issues fresh SVIDs for four test
 * backends: two in the pool's trust domain, one in a partner domain the pool trusts through
 * `additionalTrustBundles`, and one in a domain nobody trusts. Returns the file locations.
 */
export async function createDemoWorld (dirArg: string, now: number): Promise<DemoWorld> {
  const dir = resolve(dirArg)
  const stateDir = join(dir, 'state')
  await mkdir(join(dir, 'backends'), { recursive: true })
  const pool = await openDemoCa(stateDir, DEMO.caPoolId, 'CN=Demo Root CA, O=Demo')
  const partner = await openDemoCa(stateDir, 'partner-ca', 'CN=Partner Root CA, O=Partner')
  const untrusted = await openDemoCa(stateDir, 'untrusted-ca', 'CN=Untrusted Root CA, O=Nobody')
  const files = {
    pool: join(dir, 'pool-root.pem'),
    partner: join(dir, 'partner-root.pem'),
    untrusted: join(dir, 'untrusted-root.pem')
  }
  await writeFile(files.pool, pool.rootPem)
  await writeFile(files.partner, partner.rootPem)
  await writeFile(files.untrusted, untrusted.rootPem)
  // Every backend must trust the proxy's own domain to accept its client SVID.
  const trustPool = `${DEMO.trustDomain}=${files.pool}`
  const specs = [
    { name: 'backend-1', ca: pool, td: DEMO.trustDomain, path: '/ns/backends/sa/backend-1', route: '', service: 'web', bundles: [trustPool] },
    { name: 'backend-2', ca: pool, td: DEMO.trustDomain, path: '/ns/backends/sa/backend-2', route: '', service: 'web', bundles: [trustPool] },
    { name: 'partner', ca: partner, td: DEMO.partnerDomain, path: '/ns/web/sa/partner-backend', route: '/partner', service: 'partner', bundles: [trustPool, `${DEMO.partnerDomain}=${files.partner}`] },
    { name: 'untrusted', ca: untrusted, td: DEMO.untrustedDomain, path: '/ns/web/sa/rogue', route: '/untrusted', service: 'untrusted', bundles: [trustPool, `${DEMO.untrustedDomain}=${files.untrusted}`] }
  ]
  const backends: DemoBackend[] = []
  for (const s of specs) {
    const spiffeId = `spiffe://${s.td}${s.path}`
    const issued = await issueSvidCertificate(s.ca, { uri: spiffeId, notBefore: now - MINUTE_MS, lifetimeMs: DAY_MS })
    const bdir = join(dir, 'backends', s.name)
    await mkdir(bdir, { recursive: true })
    const certFile = join(bdir, 'certificates.pem')
    const keyFile = join(bdir, 'private_key.pem')
    await writeFile(certFile, issued.chainPem)
    await writeFile(keyFile, issued.keyPem, { mode: 0o600 })
    backends.push({ name: s.name, spiffeId, trustDomain: s.td, route: s.route, service: s.service, certFile, keyFile, bundles: s.bundles })
  }
  const inbound = await writeInboundCredentials(dir, { ca: partner, domain: DEMO.partnerDomain }, { rootPem: pool.rootPem, domain: DEMO.trustDomain }, now)
  return { dir, stateDir, partnerRootFile: files.partner, backends, inbound }
}

async function openDemoCa (stateDir: string, poolId: string, subject: string): Promise<CertificateAuthority> {
  const { ca } = await openCaPool({ stateDir, poolId, subject, keyAlgorithm: 'ECDSA_P256' })
  return ca
}

/**
 * Returns the demo config (YAML) for the backends listening at `ports` (name → port); the proxy
 * and admin listen on `listen.host` (127.0.0.1 unless given; 0.0.0.0 in a container).
 */
export function demoConfigYaml (world: DemoWorld, ports: ReadonlyMap<string, number>, listen: { proxyPort: number, adminPort: number, host?: string, inboundPort?: number }): string {
  const host = listen.host ?? '127.0.0.1'
  const endpoints = (service: string): string => world.backends
    .filter((b) => b.service === service)
    .map((b) => `"${formatHostPort('127.0.0.1', ports.get(b.name) ?? 0)}"`).join(', ') || (service === 'shop' ? `"${formatHostPort('127.0.0.1', listen.inboundPort ?? 0)}"` : '')
  const identity = `//${DEMO.trustDomain}/ns/lb/sa/frontend`
  const service = (name: string): string => `  - name: ${name}
    protocol: HTTPS
    localityLbPolicy: ROUND_ROBIN
    timeoutSec: 30
    tlsSettings: { identity: "${identity}" }
    backends: [{ endpoints: [${endpoints(name)}] }]
${name === 'untrusted' ? '' : '    healthCheck: { requestPath: /healthz, checkIntervalSec: 5, healthyThreshold: 1, unhealthyThreshold: 2 }\n'}`
  const caPool = `projects/${DEMO.projectNumber}/locations/${DEMO.region}/caPools/${DEMO.caPoolId}`
  return `# Generated by \`spiffe-lb up\`: the embedded demo. Edit freely; \`up\` rewrites it on start.
project: { id: ${DEMO.projectId}, number: "${DEMO.projectNumber}" }
caPools:
  - name: ${caPool}
    certificateAuthorities:
      - { id: root-ca, subject: "CN=Demo Root CA, O=Demo", keyAlgorithm: ec-p256-sha256, maxChainLength: 1 }
workloadIdentityPools:
  - id: ${DEMO.poolId}
    mode: TRUST_DOMAIN
    inlineCertificateIssuanceConfig:
      caPools: { ${DEMO.region}: ${caPool} }
      lifetime: 86400s
      rotationWindowPercentage: 50
      keyAlgorithm: ECDSA_P256
    inlineTrustConfig:
      additionalTrustBundles:
        ${DEMO.partnerDomain}:
          trustAnchors:
            - pemFile: ${world.partnerRootFile}
    namespaces:
      - id: lb
        managedIdentities:
          - id: frontend
            attestationRules:
              - googleCloudResource: //compute.googleapis.com/projects/${DEMO.projectNumber}/type/BackendService/*
backendServices:
${service('web')}${service('partner')}${service('untrusted')}${listen.inboundPort === undefined ? '' : service('shop')}urlMap:
  defaultService: web
  hostRules: [{ hosts: ["*"], pathMatcher: demo }]
  pathMatchers:
    - name: demo
      defaultService: web
      pathRules:
        - { paths: ["/partner", "/partner/*"], service: partner }
        - { paths: ["/untrusted", "/untrusted/*"], service: untrusted }
${listen.inboundPort === undefined ? '' : '        - { paths: ["/shop", "/shop/*"], service: shop }\n'}frontend: { listen: "${formatHostPort(host, listen.proxyPort)}" }
admin: { listen: "${formatHostPort(host, listen.adminPort)}" }
credentials: { source: issuer, stateDir: ${world.stateDir} }
`
}
