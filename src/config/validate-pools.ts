import { quote } from '../internal/errors.ts'
import { KEY_ALGORITHMS } from '../pki/key-algorithm.ts'
import { BundleSet } from '../spiffe/bundle-set.ts'
import type { TrustDomain } from '../spiffe/trust-domain.ts'
import { identityName, parseManagedIdentity, poolTrustDomain } from './identity.ts'
import type { ConfigPath } from './issues.ts'
import type { RawPool } from './schema.ts'
import { resolveTrustStores } from './trust-bundles.ts'
import { resolveBundleEndpoints } from './bundle-endpoints.ts'
import type { BundleEndpointConfig, CaPoolConfig, CertificateIssuanceConfig, ManagedIdentityConfig, WorkloadIdentityPoolConfig } from './types.ts'
import { caPoolLocation, durationAt, findCaPool, type PoolContext } from './validate-ca-pools.ts'
import { NAMESPACE_ID, POOL_ID, idRuleMessage } from './values.ts'
import { DAY_MS } from '../defaults.ts'

// The seeds print `projects/N/name/locations/…` in one describe output; accept it when pasted.
const POOL_NAME = /^projects\/([^/]+)\/(?:name\/)?locations\/global\/workloadIdentityPools\/([^/]+)$/

/** Returns the workload identity pools resolved; records every rule broken. */
export function resolvePools (raw: readonly RawPool[], caPools: readonly CaPoolConfig[], ctx: PoolContext): WorkloadIdentityPoolConfig[] {
  const out: WorkloadIdentityPoolConfig[] = []
  raw.forEach((pool, i) => {
    const at = ['workloadIdentityPools', i]
    const id = poolId(pool, at, ctx)
    if (id === undefined) {
      // The pool cannot be used, but its issuance and trust configs still get checked so all
      // errors come at once (namespaces are skipped: their identities derive from the bad ID).
      if (pool.inlineCertificateIssuanceConfig !== undefined) {
        resolveIssuance(pool.inlineCertificateIssuanceConfig, [...at, 'inlineCertificateIssuanceConfig'], caPools, ctx)
      }
      resolveInlineTrust(pool, at, ctx)
      return
    }
    if (out.some((p) => p.id === id)) {
      ctx.list.add([...at, 'id'], 'ERR_SPIFFE_CONFIG_DUPLICATE_POOL', `workload identity pool ${quote(id)} is defined twice`)
      return
    }
    let trustDomain: TrustDomain
    try {
      trustDomain = poolTrustDomain(id, ctx.project.number)
    } catch {
      return // the pool ID or project number rule is already reported
    }
    const cic = pool.inlineCertificateIssuanceConfig === undefined
      ? undefined
      : resolveIssuance(pool.inlineCertificateIssuanceConfig, [...at, 'inlineCertificateIssuanceConfig'], caPools, ctx)
    out.push({
      id,
      name: `projects/${ctx.project.number}/locations/global/workloadIdentityPools/${id}`,
      mode: pool.mode,
      trustDomain,
      inlineCertificateIssuanceConfig: cic,
      additionalTrustBundles: resolveInlineTrust(pool, at, ctx),
      bundleEndpoints: inlineTrustEndpoints(pool, at, trustDomain, ctx),
      namespaces: resolveNamespaces(pool, id, at, ctx)
    })
  })
  return out
}

/** Returns the pool ID from `id` and/or a pasted `name`; undefined (recorded) when unusable. */
function poolId (pool: RawPool, at: ConfigPath, { project, projectNumberOk, list }: PoolContext): string | undefined {
  let id = pool.id
  if (pool.name !== undefined) {
    const m = POOL_NAME.exec(pool.name)
    if (m === null || (projectNumberOk && m[1] !== project.number) || (id !== undefined && m[2] !== id)) {
      list.add([...at, 'name'], 'ERR_SPIFFE_CONFIG_POOL_NAME_MISMATCH',
        `pool name must be "projects/${project.number}/locations/global/workloadIdentityPools/${id ?? 'POOL_ID'}" (this project's number and the pool's id), got ${quote(pool.name)}`)
    }
    id ??= m?.[2]
  }
  if (id === undefined) {
    list.add([...at, 'id'], 'ERR_SPIFFE_CONFIG_REQUIRED', 'is required (or a "name" that ends with the pool id)')
    return undefined
  }
  if (!POOL_ID.test(id)) {
    list.add([...at, 'id'], 'ERR_SPIFFE_CONFIG_POOL_ID', idRuleMessage('workload identity pool id', 4, 32, id))
    return undefined
  }
  return id
}

function resolveIssuance (raw: NonNullable<RawPool['inlineCertificateIssuanceConfig']>, at: ConfigPath,
  caPools: readonly CaPoolConfig[], ctx: PoolContext): CertificateIssuanceConfig {
  const { list } = ctx
  if (Object.keys(raw.caPools).length === 0) list.add([...at, 'caPools'], 'ERR_SPIFFE_CONFIG_EMPTY', 'must not be empty')
  for (const [region, ref] of Object.entries(raw.caPools)) {
    if (findCaPool(caPools, ref, ctx.project, !ctx.projectNumberOk) === undefined) {
      list.add([...at, 'caPools', region], 'ERR_SPIFFE_CONFIG_CA_POOL_NOT_FOUND', `ca pool ${quote(ref)} is not defined in caPools[]`)
    }
    // The map is region → the ca pool serving that region; a pool of another region there is a
    // copy-paste slip the cloud's own documents invite (seeds: "REGION: …/locations/REGION/…").
    const location = caPoolLocation(ref)
    if (location !== undefined && location !== region) {
      list.add([...at, 'caPools', region], 'ERR_SPIFFE_CONFIG_CA_POOL_REGION', `ca pool ${quote(ref)} is in location ${quote(location)}, not in the region ${quote(region)} its key names`)
    }
  }
  const lifetimeMs = durationAt(raw.lifetime, [...at, 'lifetime'], list)
  if (lifetimeMs !== undefined && (lifetimeMs < DAY_MS || lifetimeMs > 30 * DAY_MS)) {
    list.add([...at, 'lifetime'], 'ERR_SPIFFE_CONFIG_LIFETIME', `lifetime must be between 86400s (24h) and 2592000s (30d), got ${quote(raw.lifetime)}`)
  }
  if (raw.rotationWindowPercentage < 50 || raw.rotationWindowPercentage > 80) {
    list.add([...at, 'rotationWindowPercentage'], 'ERR_SPIFFE_CONFIG_ROTATION_WINDOW',
      `rotation window percentage must be between 50 and 80, got ${quote(raw.rotationWindowPercentage)}`)
  }
  const keyAlgorithm = KEY_ALGORITHMS.find((a) => a === raw.keyAlgorithm)
  if (keyAlgorithm === undefined) {
    list.add([...at, 'keyAlgorithm'], 'ERR_SPIFFE_CONFIG_KEY_ALGORITHM', `key algorithm must be one of ${KEY_ALGORITHMS.join(', ')}, got ${quote(raw.keyAlgorithm)}`)
  }
  return { caPools: { ...raw.caPools }, lifetimeMs: lifetimeMs ?? DAY_MS, rotationWindowPercentage: raw.rotationWindowPercentage, keyAlgorithm: keyAlgorithm ?? 'ECDSA_P256' }
}

function resolveInlineTrust (pool: RawPool, at: ConfigPath, ctx: PoolContext): BundleSet {
  const itc = pool.inlineTrustConfig
  if (itc === undefined) return BundleSet.of([])
  if (itc.additionalTrustBundles !== undefined && itc.spiffeTrustStores !== undefined) {
    ctx.list.add([...at, 'inlineTrustConfig', 'spiffeTrustStores'], 'ERR_SPIFFE_CONFIG_TRUST_CONFIG_BOTH',
      'use either "additionalTrustBundles" or a pasted "spiffeTrustStores", not both')
  }
  const key = itc.additionalTrustBundles !== undefined ? 'additionalTrustBundles' : 'spiffeTrustStores'
  const map = itc.additionalTrustBundles ?? itc.spiffeTrustStores ?? {}
  return resolveTrustStores(map, [...at, 'inlineTrustConfig', key], ctx.baseDir, ctx.list)
}

function inlineTrustEndpoints (pool: RawPool, at: ConfigPath, own: TrustDomain, ctx: PoolContext): BundleEndpointConfig[] {
  const itc = pool.inlineTrustConfig
  const key = itc?.additionalTrustBundles !== undefined ? 'additionalTrustBundles' : 'spiffeTrustStores'
  const map = itc?.additionalTrustBundles ?? itc?.spiffeTrustStores ?? {}
  return resolveBundleEndpoints(map, [...at, 'inlineTrustConfig', key], own, ctx.baseDir, ctx.list)
}

function resolveNamespaces (pool: RawPool, id: string, at: ConfigPath, { project, list }: PoolContext): WorkloadIdentityPoolConfig['namespaces'] {
  const out: WorkloadIdentityPoolConfig['namespaces'] = []
  pool.namespaces.forEach((ns, j) => {
    const nsAt = [...at, 'namespaces', j]
    if (!NAMESPACE_ID.test(ns.id)) return list.add([...nsAt, 'id'], 'ERR_SPIFFE_CONFIG_NAMESPACE_ID', idRuleMessage('namespace id', 2, 63, ns.id))
    if (out.some((n) => n.id === ns.id)) return list.add([...nsAt, 'id'], 'ERR_SPIFFE_CONFIG_DUPLICATE_NAMESPACE', `namespace ${quote(ns.id)} is defined twice in pool ${quote(id)}`)
    const identities: ManagedIdentityConfig[] = []
    ns.managedIdentities.forEach((mi, k) => {
      const miAt = [...nsAt, 'managedIdentities', k]
      if (!NAMESPACE_ID.test(mi.id)) return list.add([...miAt, 'id'], 'ERR_SPIFFE_CONFIG_MANAGED_IDENTITY_ID', idRuleMessage('managed identity id', 2, 63, mi.id))
      if (identities.some((m) => m.id === mi.id)) return list.add([...miAt, 'id'], 'ERR_SPIFFE_CONFIG_DUPLICATE_MANAGED_IDENTITY', `managed identity ${quote(mi.id)} is defined twice in namespace ${quote(ns.id)}`)
      mi.attestationRules.forEach((rule, r) => {
        if (!/^\/\/[a-z0-9.-]+\/\S+$/.test(rule.googleCloudResource)) {
          list.add([...miAt, 'attestationRules', r, 'googleCloudResource'], 'ERR_SPIFFE_CONFIG_ATTESTATION_RULE',
            `attestation rule must be a resource name like "//compute.googleapis.com/projects/${project.number}/type/BackendService/*", got ${quote(rule.googleCloudResource)}`)
        }
      })
      try {
        const identity = parseManagedIdentity(identityName(id, project.number, ns.id, mi.id))
        identities.push({ id: mi.id, identity, attestationRules: mi.attestationRules.map((r) => ({ googleCloudResource: r.googleCloudResource })) })
      } catch (err) {
        list.addError([...miAt, 'id'], 'ERR_SPIFFE_CONFIG_IDENTITY_FORMAT', 'managed identity is not a valid spiffe id', err)
      }
    })
    out.push({ id: ns.id, managedIdentities: identities })
  })
  return out
}
