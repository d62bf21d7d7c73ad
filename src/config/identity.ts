import { SpiffeLbError, quote } from '../internal/errors.ts'
import { SpiffeId } from '../spiffe/spiffe-id.ts'
import { TrustDomain } from '../spiffe/trust-domain.ts'
import type { ManagedIdentityName, ResolvedIdentity } from './types.ts'
import { configError } from './errors.ts'

const POOL_TRUST_DOMAIN = /^([^.]+)\.global\.([^.]+)\.workload\.id\.goog$/

/** Returns the trust domain of a workload identity pool: `POOL.global.N.workload.id.goog` (seeds). */
export function poolTrustDomain (poolId: string, projectNumber: string): TrustDomain {
  return TrustDomain.fromString(`${poolId}.global.${projectNumber}.workload.id.goog`)
}

/** Returns the identity `//TD/ns/NS/sa/ID` of a managed identity (the backend service's form). */
export function identityName (poolId: string, projectNumber: string, namespace: string, id: string): string {
  return `//${poolId}.global.${projectNumber}.workload.id.goog/ns/${namespace}/sa/${id}`
}

/** Returns true when `td` has the form of a workload identity pool's trust domain. */
export function isPoolTrustDomain (td: TrustDomain): boolean {
  return POOL_TRUST_DOMAIN.test(td.name)
}

/**
 * Returns the parsed `tlsSettings.identity` value: a `spiffe://` ID is taken as it is (any trust
 * domain; its SVID comes from a delivering credential source), a `//…` one is a managed identity
 * (see {@link parseManagedIdentity}). Throws `ERR_SPIFFE_CONFIG_IDENTITY_FORMAT`.
 */
export function parseIdentity (text: string): ResolvedIdentity {
  if (!text.startsWith('spiffe://')) return parseManagedIdentity(text)
  try {
    return { form: 'spiffe', name: text, spiffeId: SpiffeId.fromString(text) }
  } catch (err) {
    throw configError('ERR_SPIFFE_CONFIG_IDENTITY_FORMAT',
      `identity must be a spiffe id "spiffe://TRUST_DOMAIN/PATH" or a managed identity "//POOL.global.PROJECT_NUMBER.workload.id.goog/ns/NAMESPACE/sa/MANAGED_IDENTITY": ${err instanceof Error ? err.message : 'not a valid spiffe id'}, got ${quote(text)}`,
      { cause: err })
  }
}

/**
 * Returns a parsed managed identity: `//POOL.global.N.workload.id.goog/ns/NS/sa/ID`
 * is `spiffe://POOL.global.N.workload.id.goog/ns/NS/sa/ID` (docs/architecture.md). The SPIFFE ID
 * syntax is checked by src/spiffe; this adds the managed-identity structure. Throws
 * `ERR_SPIFFE_CONFIG_IDENTITY_FORMAT`.
 */
export function parseManagedIdentity (text: string): ManagedIdentityName {
  const fail = (why: string, cause?: unknown): SpiffeLbError => configError('ERR_SPIFFE_CONFIG_IDENTITY_FORMAT',
    `identity must be "//POOL.global.PROJECT_NUMBER.workload.id.goog/ns/NAMESPACE/sa/MANAGED_IDENTITY": ${why}, got ${quote(text)}`,
    cause === undefined ? {} : { cause })
  if (!text.startsWith('//')) throw fail('it must start with "//" (or be a spiffe id "spiffe://…")')
  let spiffeId: SpiffeId
  try {
    spiffeId = SpiffeId.fromString(`spiffe:${text}`)
  } catch (err) {
    throw fail(err instanceof Error ? err.message : 'not a valid spiffe id', err)
  }
  const td = POOL_TRUST_DOMAIN.exec(spiffeId.trustDomain.name)
  if (td === null) throw fail('the trust domain is not a workload identity pool domain')
  const segments = spiffeId.path.split('/')
  if (segments.length !== 5 || segments[1] !== 'ns' || segments[3] !== 'sa') {
    throw fail('the path must be /ns/NAMESPACE/sa/MANAGED_IDENTITY')
  }
  return {
    form: 'managed',
    name: text,
    spiffeId,
    poolId: td[1] ?? '',
    projectNumber: td[2] ?? '',
    namespace: segments[2] ?? '',
    managedIdentity: segments[4] ?? ''
  }
}
