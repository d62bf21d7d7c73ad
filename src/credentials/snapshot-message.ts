/**
 * Credential snapshots carried between processes (`serve --workers N`, docs/architecture.md):
 * one process owns the credential sources and publishes snapshots; the others rebuild each
 * published snapshot from plain data and present exactly the generations it was published
 * with, because TLS session caches are keyed by `svidGeneration` and `bundleGeneration`.
 */
import { quote } from '../internal/errors.ts'
import { BundleSet } from '../spiffe/bundle-set.ts'
import type { X509Snapshot, X509SnapshotSource } from '../spiffe/snapshot.ts'
import { TrustDomain } from '../spiffe/trust-domain.ts'
import { X509Bundle } from '../spiffe/x509-bundle.ts'
import { notifyAll } from '../internal/notify.ts'
import { X509Svid } from '../spiffe/x509-svid.ts'
import { credentialsError } from './errors.ts'
import type { StaleCrlPolicy } from '../spiffe/revocation.ts'

/**
 * A snapshot as plain JSON data. It holds the SVID's PRIVATE KEY in PEM: send it only over a
 * channel private to processes of the same user (a node:cluster IPC pipe), never a network.
 */
export interface SnapshotMessage {
  /** The managed identity (SPIFFE ID) whose store published it. */
  identity: string
  /** The SVID chain (leaf first) and its PKCS#8 private key. */
  chainPem: string
  keyPem: string
  /** One entry per trust domain: its name and its anchors as PEM. */
  bundles: Array<{ trustDomain: string, pem: string }>
  generation: number
  svidGeneration: number
  bundleGeneration: number
  /** The CRLs in force per trust domain (already verified by the owning process); absent = none. */
  revocation?: Array<{ trustDomain: string, staleCrl: StaleCrlPolicy, lists: Array<{ issuerFingerprint: string, serials: string[], thisUpdate: number, nextUpdate: number | null, source: string }> }>
}

/** Returns `snapshot`, published for `identity`, as a {@link SnapshotMessage}. */
export function snapshotToMessage (identity: string, snapshot: X509Snapshot): SnapshotMessage {
  return {
    identity,
    chainPem: snapshot.svid.chainPem(),
    keyPem: snapshot.svid.privateKeyPem(),
    bundles: [...snapshot.bundles].map((b) => ({ trustDomain: b.trustDomain.name, pem: b.toPem() })),
    generation: snapshot.generation,
    svidGeneration: snapshot.svidGeneration,
    bundleGeneration: snapshot.bundleGeneration,
    ...(snapshot.revocation === undefined
      ? {}
      : {
          revocation: [...snapshot.revocation].map(([trustDomain, r]) => ({
            trustDomain,
            staleCrl: r.staleCrl ?? 'fail-closed',
            lists: r.lists.map((l) => ({ issuerFingerprint: l.issuerFingerprint, serials: [...l.revokedSerials], thisUpdate: l.thisUpdate, nextUpdate: l.nextUpdate ?? null, source: l.source }))
          }))
        })
  }
}

/**
 * Returns the snapshot in `message`, with its generations unchanged. Throws the `ERR_SPIFFE_SVID_*`,
 * `ERR_SPIFFE_BUNDLE_*` or `ERR_SPIFFE_PEM_*` error of a damaged message, or
 * `ERR_SPIFFE_CREDENTIALS_BAD_SNAPSHOT_MESSAGE` when a generation is not a positive integer.
 */
export function snapshotFromMessage (message: SnapshotMessage): X509Snapshot {
  for (const key of ['generation', 'svidGeneration', 'bundleGeneration'] as const) {
    const value = message[key]
    if (!Number.isSafeInteger(value) || value < 1) {
      throw credentialsError('ERR_SPIFFE_CREDENTIALS_BAD_SNAPSHOT_MESSAGE',
        `snapshot message ${key} must be a positive integer, got ${quote(value)}`, { at: key })
    }
  }
  const source = `snapshot ${message.generation} of ${message.identity}`
  const svid = X509Svid.fromPem(message.chainPem, message.keyPem, source)
  const bundles = BundleSet.of(message.bundles.map((b) => X509Bundle.fromPem(TrustDomain.fromString(b.trustDomain), b.pem, source)))
  return Object.freeze({
    svid,
    bundles,
    generation: message.generation,
    svidGeneration: message.svidGeneration,
    bundleGeneration: message.bundleGeneration,
    ...(message.revocation === undefined
      ? {}
      : {
          revocation: new Map(message.revocation.map((d) => [d.trustDomain, {
            staleCrl: d.staleCrl,
            lists: d.lists.map((l) => ({ issuerFingerprint: l.issuerFingerprint, revokedSerials: new Set(l.serials), thisUpdate: l.thisUpdate, nextUpdate: l.nextUpdate ?? undefined, source: l.source }))
          }]))
        })
  })
}

/**
 * A read-only copy of another process's credential store: it holds whatever snapshot was last
 * {@link publish}ed to it and never loads credentials itself. Like the store, it answers
 * {@link usable} so the connector fails closed once the SVID has expired.
 */
export class SnapshotReplica implements X509SnapshotSource {
  #current: X509Snapshot | undefined
  readonly #listeners = new Set<(s: X509Snapshot) => void>()

  /** Returns the snapshot in force, or undefined before the first one arrived. */
  current (): X509Snapshot | undefined { return this.#current }

  /** Returns true when a snapshot is held and `now` (ms) lies within its SVID's validity. */
  usable (now: number): boolean {
    const s = this.#current
    return s !== undefined && now >= s.svid.notBefore && now <= s.svid.notAfter
  }

  subscribe (listener: (snapshot: X509Snapshot) => void): () => void {
    this.#listeners.add(listener)
    return () => { this.#listeners.delete(listener) }
  }

  /**
   * Makes `snapshot` current and tells the subscribers; returns false (and changes nothing)
   * when it is not newer than the current one, so a late or repeated message cannot roll back.
   */
  publish (snapshot: X509Snapshot): boolean {
    if (this.#current !== undefined && snapshot.generation <= this.#current.generation) return false
    this.#current = snapshot
    notifyAll(this.#listeners, snapshot, 'snapshot replica')
    return true
  }
}
