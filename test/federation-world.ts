// Test support: two partner pools, each with its own CA and state directory, serving their
// bundle through `spiffe-lb bundle-endpoint` (https_web for A, https_spiffe for B), and the demo
// pool's `serve` federating with both. Backends of A and B hold SVIDs of their partner's CA.
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { startBackendCommand, type RunningBackend } from '../src/testbed/backend-starter.ts'
import { openCaPool } from '../src/control/ca-pool-store.ts'
import type { CertificateAuthority } from '../src/pki/ca-types.ts'
import { createRootCa, issueCertificate } from '../src/pki/index.ts'
import { issueSvidCertificate } from '../src/pki/svid-certificate.ts'
import { DEMO } from '../src/testbed/up-world.ts'
import { startDemoBackends, type DemoBackends } from './demo-backends.ts'
import { quiet, waitFor } from './workload-api-world.ts'

const main = new URL('../src/cli/main.ts', import.meta.url).pathname

/** A partner pool: its config for `bundle-endpoint`, its CA directory and trust domain. */
export interface Partner {
  name: 'a' | 'b'
  config: string
  stateDir: string
  caDir: string
  trustDomain: string
  ca: CertificateAuthority
}

export async function createPartner (dir: string, name: 'a' | 'b', number: string): Promise<Partner> {
  const stateDir = join(dir, `state-${name}`)
  const caPool = `projects/${number}/locations/us-central1/caPools/partner-${name}-root`
  const config = join(dir, `partner-${name}.yaml`)
  await writeFile(config, `project: { id: partner-${name}-project, number: "${number}" }
caPools:
  - name: ${caPool}
    certificateAuthorities:
      - { id: root-ca, subject: "CN=Partner ${name} Root", keyAlgorithm: ec-p256-sha256 }
workloadIdentityPools:
  - id: partner-${name}
    inlineCertificateIssuanceConfig:
      caPools: { us-central1: ${caPool} }
backendServices:
  - { name: unused, backends: [{ endpoints: ["127.0.0.1:9"] }] }
credentials: { source: issuer, stateDir: ${stateDir} }
`)
  const { ca, dir: caDir } = await openCaPool({ stateDir, poolId: `partner-${name}-root`, subject: `CN=Partner ${name} Root`, keyAlgorithm: 'ECDSA_P256' })
  return { name, config, stateDir, caDir, trustDomain: `partner-${name}.global.${number}.workload.id.goog`, ca }
}

/** Writes an SVID (or a web certificate) of `ca` into `dir` and returns the file names. */
export async function writeSvid (ca: CertificateAuthority, dir: string, uri: string): Promise<{ cert: string, key: string }> {
  await mkdir(dir, { recursive: true })
  const issued = await issueSvidCertificate(ca, { uri, notBefore: Date.now() - 60_000, lifetimeMs: 24 * 3600_000 })
  const files = { cert: join(dir, 'cert.pem'), key: join(dir, 'key.pem') }
  await writeFile(files.cert, issued.chainPem)
  await writeFile(files.key, issued.keyPem, { mode: 0o600 })
  return files
}

/** A web PKI CA and a `localhost` server certificate it signed, for https_web. */
export async function writeWebCertificate (dir: string): Promise<{ caFile: string, cert: string, key: string }> {
  await mkdir(dir, { recursive: true })
  const ca = await createRootCa({ subject: 'CN=Test Web CA', keyAlgorithm: 'ECDSA_P256' })
  const leaf = await issueCertificate(ca, { subject: 'CN=localhost', dnsNames: ['localhost'], extKeyUsage: ['serverAuth'], notBefore: Date.now() - 60_000 })
  const files = { caFile: join(dir, 'web-ca.pem'), cert: join(dir, 'web.pem'), key: join(dir, 'web.key.pem') }
  await writeFile(files.caFile, ca.certPem)
  await writeFile(files.cert, leaf.certPem)
  await writeFile(files.key, leaf.keyPem, { mode: 0o600 })
  return files
}

/** Starts an echo backend with an SVID of `ca` for `uri`, trusting the proxy's own (demo) domain and its own. */
export async function startBackend (demo: DemoBackends, ca: CertificateAuthority, uri: string, name: string): Promise<RunningBackend> {
  const dir = join(demo.dir, `backend-${name}`)
  const files = await writeSvid(ca, dir, uri)
  const ownRoot = join(dir, 'own-root.pem')
  await writeFile(ownRoot, ca.rootPem)
  const poolRoot = join(demo.world.dir, 'pool-root.pem')
  const td = new URL(uri).host
  return await startBackendCommand({ listen: '127.0.0.1:0', cert: files.cert, key: files.key, bundle: [`${DEMO.trustDomain}=${poolRoot}`, `${td}=${ownRoot}`], name }, { stdout: quiet, stderr: quiet })
}

export interface EndpointChild {
  url: string
  port: number
  output: () => string
  stop: () => Promise<number | null>
}

/** Spawns `spiffe-lb bundle-endpoint` and resolves once it listens. */
export async function spawnBundleEndpoint (args: string[]): Promise<EndpointChild> {
  const child: ChildProcess = spawn(process.execPath, [main, 'bundle-endpoint', ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  child.stdout?.on('data', (d: Buffer) => { output += d.toString() })
  child.stderr?.on('data', (d: Buffer) => { output += d.toString() })
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => { resolve(code) }))
  await waitFor(() => /bundle endpoint listening on https:\S+/.test(output) || child.exitCode !== null, 'bundle-endpoint to listen', 60_000)
    .catch((e: Error) => { child.kill('SIGKILL'); throw new Error(`${e.message}\n${output}`) })
  const m = /bundle endpoint listening on https:\/\/\S+:(\d+)/.exec(output)
  if (m === null) throw new Error(`bundle-endpoint did not start:\n${output}`)
  const port = Number(m[1])
  return { url: `https://127.0.0.1:${port}`, port, output: () => output, stop: async () => { child.kill('SIGTERM'); return await exited } }
}

/** The demo pool's serve config federating with `bundleEndpoints` (YAML map entries), one service per route. */
export function serveConfigYaml (demo: DemoBackends, trustEntries: string, services: ReadonlyArray<{ name: string, port: number }>): string {
  const identity = `//${DEMO.trustDomain}/ns/lb/sa/frontend`
  const caPool = `projects/${DEMO.projectNumber}/locations/${DEMO.region}/caPools/${DEMO.caPoolId}`
  const svc = (name: string, port: number): string => `  - name: ${name}
    tlsSettings: { identity: "${identity}" }
    backends: [{ endpoints: ["127.0.0.1:${port}"] }]
`
  return `project: { id: ${DEMO.projectId}, number: "${DEMO.projectNumber}" }
caPools:
  - name: ${caPool}
    certificateAuthorities:
      - { id: root-ca, subject: "CN=Demo Root CA, O=Demo", keyAlgorithm: ec-p256-sha256, maxChainLength: 1 }
workloadIdentityPools:
  - id: ${DEMO.poolId}
    inlineCertificateIssuanceConfig:
      caPools: { ${DEMO.region}: ${caPool} }
    inlineTrustConfig:
      additionalTrustBundles:
${trustEntries}    namespaces:
      - id: lb
        managedIdentities:
          - id: frontend
            attestationRules:
              - googleCloudResource: //compute.googleapis.com/projects/${DEMO.projectNumber}/type/BackendService/*
backendServices:
${services.map((s) => svc(s.name, s.port)).join('')}urlMap:
  defaultService: ${services[0]?.name ?? 'web'}
  hostRules: [{ hosts: ["*"], pathMatcher: fed }]
  pathMatchers:
    - name: fed
      defaultService: ${services[0]?.name ?? 'web'}
      pathRules:
${services.map((s) => `        - { paths: ["/${s.name}/*"], service: ${s.name} }\n`).join('')}frontend: { listen: "127.0.0.1:0" }
admin: { listen: "127.0.0.1:0" }
credentials: { source: issuer, stateDir: ${demo.world.stateDir} }
`
}

export { startDemoBackends }
