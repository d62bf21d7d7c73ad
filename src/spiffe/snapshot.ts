import type { BundleSet } from './bundle-set.ts'
import type { RevocationByDomain } from './revocation.ts'
import type { X509Svid } from './x509-svid.ts'

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
  /** Increments when any trust bundle changes, or the CRLs of any trust domain (`revocation`). */
  readonly bundleGeneration: number
  /** CRLs per trust domain that backends of that domain are checked against; absent = none. */
  readonly revocation?: RevocationByDomain
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
