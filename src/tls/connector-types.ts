import type { X509Certificate } from 'node:crypto'
import type { Socket } from 'node:net'
import type { TLSSocket } from 'node:tls'
import type { Clock } from '../internal/clock.ts'
import type { X509SnapshotSource } from '../spiffe/snapshot.ts'
import type { SecureContextFactory, TlsParameters } from './context-cache.ts'
import type { CredentialChanges } from './credential-changes.ts'
import type { PeerAuthorizer } from './peer-authorizer.ts'
import type { TrustWithdrawnEvent } from './live-connections.ts'

/** One finished (or failed) backend handshake, for metrics and logs (docs/metrics.md). */
export interface HandshakeEvent {
  /** `host:port` of the backend endpoint. */
  endpoint: string
  /** `ok`, or a stable reason code: the SPIFFE verification rule broken, or an `ERR_SPIFFE_TLS_*` code. */
  result: string
  /** The backend's trust domain (only when `result` is `ok`). */
  trustDomain?: string
  /** The backend's SPIFFE ID (only when `result` is `ok`). */
  peerId?: string
  /** True when the TLS session was resumed. */
  resumed: boolean
  /** From the connect call to the verdict, in milliseconds (monotonic, sub-millisecond resolution). */
  durationMs: number
  /** The underlying error's code for transport failures (`ECONNREFUSED`, `ERR_SSL_…`). */
  errorCode?: string
  /** The chain the backend presented (leaf first), when it got that far: for `/debug/peers`. */
  peerChain?: readonly X509Certificate[]
  /** Why it was rejected, one line (the verification error's message), when it was. */
  message?: string
}

/** Options of {@link createBackendConnector}. */
export interface BackendConnectorOptions extends TlsParameters {
  /** Where the SVID presented as client certificate and the trust bundles come from. */
  snapshots: X509SnapshotSource & { usable?(now: number): boolean }
  /** Resume TLS sessions (per endpoint, SVID generation and bundle generation); default true. */
  sessionResumption?: boolean
  /** Upper bound of cached client sessions; default 1000. */
  maxCachedSessions?: number
  /** TCP connect + handshake + verification deadline; default 10 000 ms. */
  handshakeTimeoutMs?: number
  /** ALPN protocols offered; default `['http/1.1']`. */
  alpnProtocols?: string[]
  clock?: Clock
  onHandshake?: (event: HandshakeEvent) => void
  /**
   * Called once per open connection the connector ends because trust in it was withdrawn: a
   * new snapshot under which the peer's recorded chain no longer verifies, or our SVID expired.
   */
  onTrustWithdrawn?: (event: TrustWithdrawnEvent) => void
  /** Which verified backends are allowed (`authorization.allowedPeers`); default any verified one. */
  authorize?: PeerAuthorizer
  /** Builds SecureContexts; default `tls.createSecureContext` (tests count calls). */
  createSecureContext?: SecureContextFactory
}

/** What undici passes to a `connect` function (`buildConnector.Options`). */
export interface ConnectOptions {
  hostname: string
  host?: string
  protocol: string
  port: string | number
  servername?: string
  localAddress?: string | null
  httpSocket?: Socket
  /** ALPN protocols to offer on this connection; default the connector's `alpnProtocols`. */
  alpnProtocols?: string[]
  /**
   * Fail with `ERR_SPIFFE_TLS_ALPN_MISMATCH` (after verification, before the socket is handed
   * over) unless ALPN selected this protocol, e.g. `h2` for an HTTP/2 backend service.
   */
  requireAlpn?: string
}

/** undici's connect callback shape. */
export type ConnectCallback = (...args: [null, Socket | TLSSocket] | [Error, null]) => void

/**
 * An undici `connect` function with a few management helpers. As a {@link CredentialChanges}
 * feed it tells the pools built on it when their connections must retire.
 */
export interface BackendConnector extends CredentialChanges {
  (options: ConnectOptions, callback: ConnectCallback): void
  /** Stops following the snapshot source and drops cached sessions. */
  close (): void
  /** Number of cached client sessions. */
  readonly cachedSessions: number
}
