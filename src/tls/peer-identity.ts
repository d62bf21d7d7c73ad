import type { X509Certificate } from 'node:crypto'
import type { SpiffeId } from '../spiffe/spiffe-id.ts'

/** What the TLS layer learned about a peer it accepted (docs/architecture.md#security-model). */
export interface VerifiedPeer {
  /** The peer's SPIFFE ID, taken from its verified X.509-SVID. */
  readonly id: SpiffeId
  /** The chain the peer presented, leaf first (for a resumed session: the one first verified). */
  readonly chain: readonly X509Certificate[]
  /** True when the TLS session was resumed instead of a full handshake. */
  readonly resumed: boolean
}

// Keyed by the socket object so the entry disappears with the socket; nothing to clean up.
const peers = new WeakMap<object, VerifiedPeer>()

/** Records `peer` as the verified identity of `socket`. Internal to the TLS layer. */
export function recordPeer (socket: object, peer: VerifiedPeer): void {
  peers.set(socket, peer)
}

/**
 * Returns the SPIFFE ID the TLS layer verified for the peer of `socket` (a socket returned by
 * the backend connector or accepted by the SPIFFE TLS server), or undefined for any other socket.
 * Use this rather than `getPeerCertificate()`: resumed sessions carry no peer certificate.
 */
export function peerIdentity (socket: object): SpiffeId | undefined {
  return peers.get(socket)?.id
}

/** Returns everything recorded about the verified peer of `socket`, or undefined. */
export function verifiedPeer (socket: object): VerifiedPeer | undefined {
  return peers.get(socket)
}
