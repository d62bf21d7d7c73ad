import { quote } from '../internal/errors.ts'
import { BundleSet } from '../spiffe/bundle-set.ts'
import type { TrustDomain } from '../spiffe/trust-domain.ts'
import type { X509Bundle } from '../spiffe/x509-bundle.ts'
import { credentialsError } from './errors.ts'

/**
 * Returns `delivered` with the configured `additionalTrustBundles` merged in, one bundle per
 * trust domain. Extra anchors for the workload's own domain are added to its bundle (the
 * inline trust config may name the own pool); any other domain present in both is refused
 * with `ERR_SPIFFE_CREDENTIALS_DUPLICATE_TRUST_DOMAIN`, because silently picking one of two
 * anchor lists would let the wrong CA vouch for a domain (docs/architecture.md#security-model).
 */
export function mergeTrustBundles (delivered: BundleSet, additional: BundleSet | undefined, own: TrustDomain): BundleSet {
  if (additional === undefined || additional.size === 0) return delivered
  const out: X509Bundle[] = [...delivered]
  for (const extra of additional) {
    const i = out.findIndex((b) => b.trustDomain.equals(extra.trustDomain))
    const existing = out[i]
    if (existing === undefined) {
      out.push(extra)
    } else if (extra.trustDomain.equals(own)) {
      out[i] = existing.withAuthorities(extra.authorities)
    } else {
      throw credentialsError('ERR_SPIFFE_CREDENTIALS_DUPLICATE_TRUST_DOMAIN',
        `trust domain ${quote(extra.trustDomain.name)} is delivered by the credential source and also configured in additionalTrustBundles`,
        { at: `additionalTrustBundles.${extra.trustDomain.name}` })
    }
  }
  return BundleSet.of(out)
}
