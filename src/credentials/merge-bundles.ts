import { quote, type SpiffeLbError } from '../internal/errors.ts'
import { BundleSet } from '../spiffe/bundle-set.ts'
import type { TrustDomain } from '../spiffe/trust-domain.ts'
import type { X509Bundle } from '../spiffe/x509-bundle.ts'
import { credentialsError } from './errors.ts'

/** What {@link mergeTrustBundles} made, and the configured domains it set aside. */
export interface MergedBundles {
  bundles: BundleSet
  /** One `ERR_SPIFFE_CREDENTIALS_TRUST_DOMAIN_OVERRIDDEN` warning per configured domain the source overrode. */
  warnings: SpiffeLbError[]
}

/**
 * Returns `delivered` with the configured bundles (`additionalTrustBundles`, `trustBundles`)
 * merged in, one bundle per trust domain, by one rule (docs/architecture.md#security-model):
 * - extra anchors for the workload's own domain are added to its bundle (the inline trust
 *   config may name the own pool);
 * - another domain with the same anchors from both is one bundle, silently;
 * - another domain with other anchors: the delivering source wins over static config (it is
 *   kept current by whoever runs that domain's federation; a config is edited by hand), and a
 *   warning names the domain. The anchor lists are never pooled, and no credentials are refused.
 */
export function mergeTrustBundles (delivered: BundleSet, additional: BundleSet | undefined, own: TrustDomain): MergedBundles {
  if (additional === undefined || additional.size === 0) return { bundles: delivered, warnings: [] }
  const out: X509Bundle[] = [...delivered]
  const warnings: SpiffeLbError[] = []
  for (const extra of additional) {
    const i = out.findIndex((b) => b.trustDomain.equals(extra.trustDomain))
    const existing = out[i]
    if (existing === undefined) {
      out.push(extra)
    } else if (extra.trustDomain.equals(own)) {
      out[i] = existing.withAuthorities(extra.authorities)
    } else if (!existing.equals(extra)) {
      warnings.push(credentialsError('ERR_SPIFFE_CREDENTIALS_TRUST_DOMAIN_OVERRIDDEN',
        `trust domain ${quote(extra.trustDomain.name)} is delivered by the credential source with other anchors than the config gives; the delivered bundle is used and the configured one ignored`,
        { at: `additionalTrustBundles.${extra.trustDomain.name}` }))
    }
  }
  return { bundles: BundleSet.of(out), warnings }
}
