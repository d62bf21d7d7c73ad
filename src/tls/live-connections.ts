import type { TLSSocket } from 'node:tls'
import type { Clock } from '../internal/clock.ts'
import { quote } from '../internal/errors.ts'
import type { X509Snapshot, X509SnapshotSource } from '../spiffe/snapshot.ts'
import type { CredentialChanges } from './credential-changes.ts'
import { TlsTrustWithdrawnError } from './errors.ts'
import type { VerifiedPeer } from './peer-identity.ts'
import { verifyPeer } from './verify-peer.ts'

/** One open backend connection ended because trust in it was withdrawn (for the log and metrics). */
export interface TrustWithdrawnEvent {
  /** `host:port` of the backend endpoint. */
  endpoint: string
  /** The SPIFFE ID the backend proved when the connection was made. */
  peerId: string
  /** `ERR_SPIFFE_TLS_PEER_UNTRUSTED` (the peer no longer verifies) or `ERR_SPIFFE_TLS_SVID_UNUSABLE` (our SVID). */
  code: 'ERR_SPIFFE_TLS_PEER_UNTRUSTED' | 'ERR_SPIFFE_TLS_SVID_UNUSABLE'
  /** The precise rule: the verification code (`ERR_SPIFFE_VERIFY_REVOKED`, …), or `code`. */
  reason: string
  /** One line: which connection and why. */
  message: string
}

interface Live { readonly socket: TLSSocket, readonly endpoint: string, readonly peer: VerifiedPeer }

/**
 * The verified backend connections a connector handed out that are still open, with the chain
 * each peer proved (docs/architecture.md#security-model). A pool retires its connections on a
 * credential change, but a connection busy with a long stream (WebSocket, gRPC or HTTP/2
 * stream, chunked response) would keep relaying under trust that is gone: {@link recheck}
 * re-verifies every recorded chain against a new snapshot and ends the connections whose peer
 * no longer verifies, and {@link endAll} ends them all when our own SVID becomes unusable.
 * A connection is ended by destroying its socket with a {@link TlsTrustWithdrawnError}, so the
 * proxy layer relaying over it learns why and can answer each protocol in its own terms.
 */
export class LiveConnections {
  readonly #open = new Set<Live>()

  /** Records `socket`, verified as `peer`, until it closes. */
  add (socket: TLSSocket, endpoint: string, peer: VerifiedPeer): void {
    const live: Live = { socket, endpoint, peer }
    this.#open.add(live)
    socket.once('close', () => { this.#open.delete(live) })
  }

  /** Connections open now. */
  get size (): number { return this.#open.size }

  /**
   * Re-verifies every open connection's recorded chain under `snapshot` at `now` (bundle of the
   * peer's own domain, its CRLs); ends those that fail. Peers sharing a leaf are verified once.
   * Returns one event per connection ended.
   */
  recheck (snapshot: X509Snapshot, now: number): TrustWithdrawnEvent[] {
    const verdicts = new Map<string, Error | undefined>()
    const events: TrustWithdrawnEvent[] = []
    for (const live of [...this.#open]) {
      const key = live.peer.chain.map((c) => c.fingerprint256).join('/')
      let failed = verdicts.get(key)
      if (!verdicts.has(key)) {
        try {
          verifyPeer(live.peer.chain, snapshot.bundles, 'server', now, live.endpoint, false, snapshot.revocation)
          failed = undefined
        } catch (err) {
          failed = err as Error
        }
        verdicts.set(key, failed)
      }
      if (failed === undefined) continue
      const reason = (failed as { reason?: unknown }).reason
      const rule = typeof reason === 'string' ? reason : 'ERR_SPIFFE_TLS_PEER_UNTRUSTED'
      const cause = failed.cause instanceof Error ? failed.cause.message : failed.message
      events.push(this.#end(live, new TlsTrustWithdrawnError('ERR_SPIFFE_TLS_PEER_UNTRUSTED', rule,
        `backend ${quote(live.endpoint)} (${live.peer.id.toString()}) no longer verifies under the new trust bundles: ${cause} (${rule})`,
        { at: live.endpoint, cause: failed })))
    }
    return events
  }

  /** Ends every open connection because `svid` (our own) is no longer usable; returns the events. */
  endAll (svid: string, why: string): TrustWithdrawnEvent[] {
    return [...this.#open].map((live) => this.#end(live, new TlsTrustWithdrawnError('ERR_SPIFFE_TLS_SVID_UNUSABLE', 'ERR_SPIFFE_TLS_SVID_UNUSABLE',
      `connection to backend ${quote(live.endpoint)} (${live.peer.id.toString()}) ended: our svid ${quote(svid)} ${why}`, { at: live.endpoint })))
  }

  #end (live: Live, err: TlsTrustWithdrawnError): TrustWithdrawnEvent {
    this.#open.delete(live)
    // Whoever owns the socket hears the error through its own listener; this one only makes
    // sure a socket nobody listens to any more cannot turn it into an uncaught exception.
    live.socket.on('error', () => {})
    live.socket.destroy(err)
    return { endpoint: live.endpoint, peerId: live.peer.id.toString(), code: err.code as TrustWithdrawnEvent['code'], reason: err.reason, message: err.message }
  }
}

/**
 * Keeps `live` in step with trust: on every new trust generation of `snapshots` (a bundle added,
 * changed or removed, a CRL change) the open connections are verified again and those whose peer
 * fails are ended; when `changes` announces that the SVID in force expired, all are ended. Each
 * connection ended is passed to `report` once. Returns the function that stops following.
 */
export function followTrust (live: LiveConnections, snapshots: X509SnapshotSource, changes: CredentialChanges,
  clock: Clock, report: (event: TrustWithdrawnEvent) => void): () => void {
  let generation = snapshots.current()?.bundleGeneration
  const unsubscribe = snapshots.subscribe((snapshot) => {
    // An SVID rotation alone keeps every peer verified: nothing to check.
    if (snapshot.bundleGeneration === generation) return
    generation = snapshot.bundleGeneration
    if (live.size > 0) for (const e of live.recheck(snapshot, clock.now())) report(e)
  })
  const unwatch = changes.onCredentialChange((change) => {
    const svid = snapshots.current()?.svid
    if (change.expired !== true || svid === undefined || live.size === 0) return
    for (const e of live.endAll(svid.id.toString(), `expired at ${new Date(svid.notAfter).toISOString()}`)) report(e)
  })
  return () => { unsubscribe(); unwatch() }
}
