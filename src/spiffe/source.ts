import type { BundleSet } from './bundle-set.ts'
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

/**
 * One consistent view of the workload's credentials: an SVID and the bundles it trusts,
 * published together so a reader never sees a new key with an old chain. Generations only
 * grow; `svidGeneration` and `bundleGeneration` let the TLS layer key session caches so a
 * rotation or trust change is never bypassed by a resumed session.
 */
export interface X509Snapshot {
  readonly svid: X509Svid
  readonly bundles: BundleSet
  /** Increments on every published snapshot. */
  readonly generation: number
  /** Increments when the SVID (chain or key) changes. */
  readonly svidGeneration: number
  /** Increments when any trust bundle changes. */
  readonly bundleGeneration: number
}

/** A source of snapshots that can change at run time (rotation, trust updates). */
export interface X509SnapshotSource {
  /** Returns the snapshot in force, or undefined before the first one was accepted. */
  current (): X509Snapshot | undefined
  /** Calls `listener` after each newly published snapshot; returns the unsubscribe function. */
  subscribe (listener: (snapshot: X509Snapshot) => void): () => void
}

/**
 * Returns a source whose one snapshot (generation 1) never changes: for tools and benchmarks
 * that hold fixed credentials. `subscribe` never calls its listener.
 */
export function staticSnapshotSource (svid: X509Svid, bundles: BundleSet): X509SnapshotSource {
  const snapshot: X509Snapshot = { svid, bundles, generation: 1, svidGeneration: 1, bundleGeneration: 1 }
  return { current: () => snapshot, subscribe: () => () => {} }
}
