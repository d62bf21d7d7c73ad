import { X509Certificate } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { parsePem } from '../internal/pem.ts'
import type { DeriveInputs } from './derived.ts'
import type { BackendServiceConfig, CaPoolConfig, SpiffeLbConfig } from './types.ts'

/**
 * A read-only view of what exists at run time and the config cannot know: CA roots the local
 * control plane created, the certificate currently held for a backend service, and anchors
 * delivered with the credentials. Every method returns undefined when the thing does not exist
 * (yet); `describe` then omits the fields it would fill.
 */
export interface ControlPlaneStateView {
  /** PEM of the CA certificate(s) of `pool`. */
  caRootsPem (pool: CaPoolConfig): Promise<string | undefined>
  /** PEM of the current certificate chain of `service` (leaf first). */
  certificatePem (service: BackendServiceConfig): Promise<string | undefined>
  /** PEM of delivered trust anchors for trust domain `name`. */
  trustDomainRootsPem (name: string): Promise<string | undefined>
}

/**
 * Returns the view of the files on disk: `<stateDir>/ca-pools/<poolId>/ca.pem` (written by
 * src/control's CA pool store) and, for the `directory` source, the GCE credential files
 * `certificates.pem` (shown for the backend services whose identity is its leaf's URI SAN)
 * and `ca_certificates.pem` (the anchors of that leaf's trust domain).
 */
export function fileStateView (config: SpiffeLbConfig): ControlPlaneStateView {
  const { stateDir, directory, source } = config.credentials
  const delivered = async (): Promise<{ chain: string, uri: string } | undefined> => {
    if (source !== 'directory') return undefined
    const chain = await readOptional(join(directory, 'certificates.pem'))
    if (chain === undefined) return undefined
    try {
      const block = parsePem(chain, 'certificates.pem').find((b) => b.type === 'CERTIFICATE')
      const san = block === undefined ? undefined : new X509Certificate(block.der).subjectAltName
      const uri = san?.split(', ').find((n) => n.startsWith('URI:'))?.slice(4)
      return uri === undefined ? undefined : { chain, uri }
    } catch {
      return undefined // half-written or foreign file: nothing to show
    }
  }
  return {
    caRootsPem: async (pool) => await readOptional(join(stateDir, 'ca-pools', pool.poolId, 'ca.pem')),
    certificatePem: async (svc) => {
      const d = await delivered()
      return d !== undefined && d.uri === svc.tlsSettings.identity?.spiffeId.toString() ? d.chain : undefined
    },
    trustDomainRootsPem: async (name) => {
      const d = await delivered()
      return d !== undefined && d.uri.startsWith(`spiffe://${name}/`) ? await readOptional(join(directory, 'ca_certificates.pem')) : undefined
    }
  }
}

/** Returns the {@link DeriveInputs} `view` knows for `config` (by default: the files on disk). */
export async function readDeriveInputs (config: SpiffeLbConfig, view: ControlPlaneStateView = fileStateView(config)): Promise<DeriveInputs> {
  const caRootsPem = new Map<string, string>()
  const certificatePem = new Map<string, string>()
  const trustDomainRootsPem = new Map<string, string>()
  for (const pool of config.caPools) {
    const pem = await view.caRootsPem(pool)
    if (pem !== undefined) caRootsPem.set(pool.name, pem)
  }
  for (const svc of config.backendServices) {
    if (svc.tlsSettings.identity === undefined) continue
    const pem = await view.certificatePem(svc)
    if (pem !== undefined) certificatePem.set(svc.name, pem)
  }
  for (const pool of config.workloadIdentityPools) {
    const pem = await view.trustDomainRootsPem(pool.trustDomain.name)
    if (pem !== undefined) trustDomainRootsPem.set(pool.trustDomain.name, pem)
  }
  return { caRootsPem, certificatePem, trustDomainRootsPem }
}

async function readOptional (file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8')
  } catch {
    return undefined // absent (or unreadable): a read-only view shows what it can
  }
}
