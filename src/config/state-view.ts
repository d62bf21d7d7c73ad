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


/** Returns the {@link DeriveInputs} `view` knows for `config` (control/disk-state-view.ts reads them from disk). */
export async function readDeriveInputs (config: SpiffeLbConfig, view: ControlPlaneStateView): Promise<DeriveInputs> {
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
