import type { TrustDomain } from './trust-domain.ts'
import type { X509Bundle } from './x509-bundle.ts'
import type { X509Svid } from './x509-svid.ts'

/**
 * Where X.509 bundles come from: one bundle per trust domain, never a pooled list.
 * See https://github.com/spiffe/spiffe/blob/main/standards/SPIFFE_Trust_Domain_and_Bundle.md
 */
export interface X509BundleSource {
  /** Returns the bundle of exactly `td`, or undefined when that domain is not trusted. */
  getBundleForTrustDomain (td: TrustDomain): X509Bundle | undefined
}

/** Where the workload's own X.509-SVID comes from. */
export interface X509SvidSource {
  /** Returns the current SVID; throws a coded error when none is usable. */
  getX509Svid (): X509Svid
}
