import { quote } from '../internal/errors.ts'
import type { SpiffeId } from '../spiffe/spiffe-id.ts'
import type { ManagedIdentityConfig, ResolvedIdentity, SpiffeLbConfig } from './types.ts'
import { configError } from './errors.ts'

/** Returns the resource name attestation rules match for a backend service (seeds: add-attestation-rule). */
export function backendServiceResource (projectNumber: string, name: string): string {
  return `//compute.googleapis.com/projects/${projectNumber}/type/BackendService/${name}`
}

/**
 * Returns true when `resource` matches the `googleCloudResource` pattern. `*` matches any run of
 * characters within one path segment, so `…/type/BackendService/*` admits every backend service
 * of that project and nothing of another type or project.
 */
export function matchesAttestationRule (pattern: string, resource: string): boolean {
  const source = pattern.split('*').map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('[^/]*')
  return new RegExp(`^${source}$`).test(resource)
}

/** Returns the managed identity `identity` names (either form, or a SPIFFE ID), or undefined. */
export function findManagedIdentity (config: Pick<SpiffeLbConfig, 'workloadIdentityPools'>,
  identity: string | SpiffeId | ResolvedIdentity): ManagedIdentityConfig | undefined {
  const wanted = typeof identity === 'string'
    ? (identity.startsWith('//') ? `spiffe:${identity}` : identity)
    : 'spiffeId' in identity ? identity.spiffeId.toString() : identity.toString()
  for (const pool of config.workloadIdentityPools) {
    for (const ns of pool.namespaces) {
      for (const mi of ns.managedIdentities) {
        if (mi.identity.spiffeId.toString() === wanted) return mi
      }
    }
  }
  return undefined
}

/**
 * Checks the attestation policy before anything is issued for `identity` (seeds: "attestation
 * policy"): some rule of the managed identity must match `resource`, e.g.
 * `//compute.googleapis.com/projects/N/type/BackendService/web`. Returns the matching rule.
 * Throws `ERR_SPIFFE_CONFIG_ATTESTATION_DENIED` naming the identity, the resource and the rules
 * (also when the config has no such managed identity).
 */
export function checkAttestation (config: Pick<SpiffeLbConfig, 'workloadIdentityPools'>,
  identity: string | SpiffeId | ResolvedIdentity, resource: string): string {
  const mi = findManagedIdentity(config, identity)
  const shown = typeof identity === 'string' ? identity : 'spiffeId' in identity ? identity.name : identity.toString()
  if (mi === undefined) {
    throw configError('ERR_SPIFFE_CONFIG_ATTESTATION_DENIED',
      `identity ${quote(shown)} is not attested for ${quote(resource)}: no such managed identity, so no attestation rules`)
  }
  const rules = mi.attestationRules.map((r) => r.googleCloudResource)
  const match = rules.find((rule) => matchesAttestationRule(rule, resource))
  if (match === undefined) {
    const listed = rules.length === 0 ? 'none' : rules.map((r) => quote(r)).join(', ')
    throw configError('ERR_SPIFFE_CONFIG_ATTESTATION_DENIED',
      `identity ${quote(shown)} is not attested for ${quote(resource)}: no attestation rule matches (rules: ${listed})`)
  }
  return match
}
