import { quote } from '../internal/errors.ts'
import type { X509BundleSource } from './source.ts'
import { TrustDomain } from './trust-domain.ts'
import type { X509Bundle } from './x509-bundle.ts'
import { spiffeError } from './errors.ts'

/**
 * An immutable map of trust domain → its own {@link X509Bundle}: the unit that is loaded,
 * compared and swapped as a whole. Anchors are never pooled across domains: verification
 * asks for the one bundle of the SVID's trust domain.
 * https://github.com/spiffe/spiffe/blob/main/standards/SPIFFE_Trust_Domain_and_Bundle.md#3-spiffe-bundles
 */
export class BundleSet implements X509BundleSource {
  readonly #bundles: ReadonlyMap<string, X509Bundle>

  private constructor (bundles: ReadonlyMap<string, X509Bundle>) {
    this.#bundles = bundles
  }

  /**
   * Returns a set of `bundles`, sorted by trust domain name. Throws
   * `ERR_SPIFFE_BUNDLE_DUPLICATE_TRUST_DOMAIN` when a trust domain appears twice: two
   * sources disagreeing about one domain's anchors is a conflict to fix, not to guess at.
   */
  static of (bundles: Iterable<X509Bundle>): BundleSet {
    const map = new Map<string, X509Bundle>()
    for (const b of bundles) {
      if (map.has(b.trustDomain.name)) {
        throw spiffeError('ERR_SPIFFE_BUNDLE_DUPLICATE_TRUST_DOMAIN',
          `trust domain ${quote(b.trustDomain.name)} has more than one bundle`)
      }
      map.set(b.trustDomain.name, b)
    }
    return new BundleSet(new Map([...map].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))))
  }

  /** Returns the empty set. */
  static empty (): BundleSet { return BundleSet.of([]) }

  /**
   * Returns the bundle of `td` (a TrustDomain, or a name / `spiffe://name` string, which
   * must be valid: throws `ERR_SPIFFE_TRUST_DOMAIN_*` otherwise), or undefined.
   */
  get (td: TrustDomain | string): X509Bundle | undefined {
    return this.#bundles.get(typeof td === 'string' ? TrustDomain.fromString(td).name : td.name)
  }

  /** Returns true when `td` has a bundle. */
  has (td: TrustDomain | string): boolean { return this.get(td) !== undefined }

  /** Returns the bundle of exactly `td`, or undefined when that domain is not trusted. */
  getBundleForTrustDomain (td: TrustDomain): X509Bundle | undefined {
    return this.#bundles.get(td.name)
  }

  /** Returns the trust domains, sorted by name. */
  trustDomains (): TrustDomain[] { return [...this.#bundles.values()].map((b) => b.trustDomain) }

  /** Number of trust domains. */
  get size (): number { return this.#bundles.size }

  /** Iterates the bundles in trust domain name order. */
  [Symbol.iterator] (): Iterator<X509Bundle> { return this.#bundles.values() }

  /**
   * Returns a new set where `bundle`'s authorities are added to its trust domain's existing
   * bundle (deduplicated by fingerprint), or where its domain is added when absent.
   */
  merged (bundle: X509Bundle): BundleSet {
    const existing = this.#bundles.get(bundle.trustDomain.name)
    const next = existing === undefined ? bundle : existing.withAuthorities(bundle.authorities)
    return BundleSet.of([...[...this.#bundles.values()].filter((b) => b !== existing), next])
  }

  /** Returns true when both sets hold the same domains with the same authorities. */
  equals (o: BundleSet): boolean {
    if (o.size !== this.size) return false
    for (const b of this) {
      const other = o.getBundleForTrustDomain(b.trustDomain)
      if (other === undefined || !other.equals(b)) return false
    }
    return true
  }
}
