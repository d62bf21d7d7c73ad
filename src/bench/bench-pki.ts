import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { createRootCa, createSubordinateCa, issueSvidCertificate } from '../pki/index.ts'
import type { CertificateAuthority, KeyAlgorithm } from '../pki/index.ts'
import { BundleSet } from '../spiffe/bundle-set.ts'
import { TrustDomain } from '../spiffe/trust-domain.ts'
import { X509Bundle } from '../spiffe/x509-bundle.ts'
import { X509Svid } from '../spiffe/x509-svid.ts'
import { DAY_MS } from '../defaults.ts'

/** The trust domain every benchmark identity lives in (a managed workload identity pool's shape). */
export const BENCH_TRUST_DOMAIN = 'bench-pool.global.123456789012.workload.id.goog'

/** One side's credentials, in memory and as files. */
export interface BenchIdentity {
  spiffeId: string
  svid: X509Svid
  /** Leaf first, then the intermediate when the chain has one (never the root). */
  chainPem: string
  keyPem: string
  certFile: string
  keyFile: string
}

/** Everything one matrix cell needs: a CA hierarchy and the client (proxy) and server (backend) SVIDs. */
export interface BenchPki {
  keyAlgorithm: KeyAlgorithm
  chainDepth: 1 | 2
  trustDomain: TrustDomain
  rootPem: string
  /** The root as a PEM file (`--bundle TD=FILE`, `openssl s_server -CAfile`). */
  rootFile: string
  bundles: BundleSet
  client: BenchIdentity
  server: BenchIdentity
  /** Issues a new client SVID (same SPIFFE ID, new key): a credential rotation. */
  reissueClient: () => Promise<{ chainPem: string, keyPem: string }>
}

/**
 * Creates a root CA (and, for `chainDepth` 2, an intermediate that issues the leaves), a client
 * SVID `…/ns/bench/sa/client` and a server SVID `…/ns/bench/sa/backend`, all with `keyAlgorithm`,
 * valid for a day; writes them as PEM files (keys 0600) into `dir`. Returns the materials.
 */
export async function createBenchPki (dir: string, keyAlgorithm: KeyAlgorithm, chainDepth: 1 | 2): Promise<BenchPki> {
  await mkdir(dir, { recursive: true })
  const root = await createRootCa({ subject: 'CN=spiffe-lb bench root, O=spiffe-lb', keyAlgorithm, maxChainLength: 1 })
  const issuer: CertificateAuthority = chainDepth === 1
    ? root
    : await createSubordinateCa(root, { subject: 'CN=spiffe-lb bench intermediate, O=spiffe-lb', keyAlgorithm, maxChainLength: 0 })
  const trustDomain = TrustDomain.fromString(BENCH_TRUST_DOMAIN)
  const rootFile = join(dir, 'root.pem')
  await writeFile(rootFile, root.certPem)
  const identity = async (name: string): Promise<BenchIdentity> => {
    const spiffeId = `spiffe://${BENCH_TRUST_DOMAIN}/ns/bench/sa/${name}`
    const issued = await issueSvidCertificate(issuer, { uri: spiffeId, keyAlgorithm, lifetimeMs: DAY_MS, dnsNames: ['localhost'] })
    const certFile = join(dir, `${name}.pem`)
    const keyFile = join(dir, `${name}-key.pem`)
    await writeFile(certFile, issued.chainPem)
    await writeFile(keyFile, issued.keyPem, { mode: 0o600 })
    return { spiffeId, svid: X509Svid.fromPem(issued.chainPem, issued.keyPem, certFile), chainPem: issued.chainPem, keyPem: issued.keyPem, certFile, keyFile }
  }
  const [client, server] = await Promise.all([identity('client'), identity('backend')])
  return {
    keyAlgorithm,
    chainDepth,
    trustDomain,
    rootPem: root.certPem,
    rootFile,
    bundles: BundleSet.of([X509Bundle.fromPem(trustDomain, root.certPem, rootFile)]),
    client,
    server,
    reissueClient: async () => await issueSvidCertificate(issuer, { uri: client.spiffeId, keyAlgorithm, lifetimeMs: DAY_MS, dnsNames: ['localhost'] })
  }
}
