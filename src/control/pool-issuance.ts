import type { Clock } from '../internal/clock.ts'
import { quote } from '../internal/errors.ts'
import type { CertificateAuthority } from '../pki/index.ts'
import { findCaPool } from '../config/validate-ca-pools.ts'
import type { CaPoolConfig, CertificateIssuanceConfig, SpiffeLbConfig, WorkloadIdentityPoolConfig } from '../config/types.ts'
import type { SpiffeId } from '../spiffe/spiffe-id.ts'
import { X509Bundle } from '../spiffe/x509-bundle.ts'
import { openCaPool } from './ca-pool-store.ts'
import { caPoolDir } from './ca-layout.ts'
import { controlError } from './errors.ts'

/** How certificates for one managed identity are issued locally. */
export interface PoolIssuance {
  /** The workload identity pool (trust domain) of the identity. */
  pool: WorkloadIdentityPoolConfig
  /** Its `inlineCertificateIssuanceConfig`: lifetime, rotation window, key algorithm. */
  cic: CertificateIssuanceConfig
  /** The CA pool the CIC names (its first region's). */
  caPool: CaPoolConfig
  /** The pool's CA, opened or created in the state directory. */
  ca: CertificateAuthority
  /** The CA pool's directory (control/ca-layout.ts), where `ca revoke` publishes its CRL. */
  caDir: string
}

/**
 * Returns the local issuance setup for `identity`: its pool, the pool's CIC, and the CA of the
 * CA pool the CIC binds (created on first use under `stateDir`, see {@link openCaPool}). Throws
 * `ERR_SPIFFE_CONTROL_NO_POOL`, `ERR_SPIFFE_CONTROL_NO_CIC` or `ERR_SPIFFE_CONTROL_NO_CA_POOL`.
 */
export async function openPoolIssuance (config: SpiffeLbConfig, identity: SpiffeId, opts: { stateDir?: string, clock?: Clock } = {}): Promise<PoolIssuance> {
  const pool = config.workloadIdentityPools.find((p) => p.trustDomain.equals(identity.trustDomain))
  if (pool === undefined) {
    throw controlError('ERR_SPIFFE_CONTROL_NO_POOL',
      `no workload identity pool has trust domain ${quote(identity.trustDomain.name)} of ${quote(identity.toString())}`)
  }
  return await openPoolCa(config, pool, opts)
}

/**
 * Returns the issuance setup of workload identity pool `pool` of `config`: its CIC, the CA pool
 * the CIC binds and that pool's CA (created on first use, see {@link openCaPool}). Throws
 * `ERR_SPIFFE_CONTROL_NO_CIC` or `ERR_SPIFFE_CONTROL_NO_CA_POOL`.
 */
export async function openPoolCa (config: SpiffeLbConfig, pool: WorkloadIdentityPoolConfig, opts: { stateDir?: string, clock?: Clock } = {}): Promise<PoolIssuance> {
  const cic = pool.inlineCertificateIssuanceConfig
  if (cic === undefined) {
    throw controlError('ERR_SPIFFE_CONTROL_NO_CIC',
      `workload identity pool ${quote(pool.id)} has no inlineCertificateIssuanceConfig, so nothing can issue its certificates`,
      { at: `workloadIdentityPools[${config.workloadIdentityPools.indexOf(pool)}].inlineCertificateIssuanceConfig` })
  }
  const regions = Object.keys(cic.caPools).sort()
  const ref = regions.length === 0 ? undefined : cic.caPools[regions[0] ?? '']
  const caPool = ref === undefined ? undefined : findCaPool(config.caPools, ref, config.project ?? { id: '', number: '' }, true)
  const authority = caPool?.certificateAuthorities[0]
  if (caPool === undefined || authority === undefined) {
    throw controlError('ERR_SPIFFE_CONTROL_NO_CA_POOL',
      `the certificate issuance config of pool ${quote(pool.id)} names CA pool ${quote(ref ?? '(none)')}, which caPools[] does not define with a CA`)
  }
  const stateDir = opts.stateDir ?? config.credentials.stateDir
  const { ca } = await openCaPool({
    stateDir,
    poolId: caPool.poolId,
    subject: authority.subject,
    keyAlgorithm: authority.keyAlgorithm,
    lifetimeMs: authority.lifetimeMs,
    ...(authority.maxChainLength === undefined ? {} : { maxChainLength: authority.maxChainLength }),
    ...(opts.clock === undefined ? {} : { clock: opts.clock })
  })
  return { pool, cic, caPool, ca, caDir: caPoolDir(stateDir, caPool.poolId) }
}

/**
 * Returns the trust anchors the control plane hands out for `pool`: trust domain name → PEM.
 * The pool's own domain gets its CA's root plus any own-domain anchors from
 * `additionalTrustBundles`; every other additional domain keeps its own bundle.
 */
export function poolTrustAnchors (pool: WorkloadIdentityPoolConfig, ca: CertificateAuthority): Map<string, string> {
  let own = X509Bundle.fromPem(pool.trustDomain, ca.rootPem, 'ca pool root')
  const out = new Map<string, string>()
  for (const bundle of pool.additionalTrustBundles) {
    if (bundle.trustDomain.equals(pool.trustDomain)) own = own.withAuthorities(bundle.authorities)
    else out.set(bundle.trustDomain.name, bundle.toPem())
  }
  return new Map([[pool.trustDomain.name, own.toPem()], ...out])
}

/** Returns the first managed identity of the config (the `metadata-server` default), if any. */
export function firstManagedIdentity (config: SpiffeLbConfig): SpiffeId | undefined {
  for (const pool of config.workloadIdentityPools) {
    for (const ns of pool.namespaces) {
      const mi = ns.managedIdentities[0]
      if (mi !== undefined) return mi.identity.spiffeId
    }
  }
  return undefined
}
