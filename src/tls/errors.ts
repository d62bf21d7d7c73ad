import { SpiffeLbError } from '../internal/errors.ts'

/**
 * Stable error codes of the TLS layer (public API: they appear in logs, metrics labels and
 * `onHandshake` events). Verification failures keep the `src/spiffe` code as their `reason`.
 */
export const TLS_ERROR = {
  /** No credential snapshot yet, or the SVID in force is outside its validity period. */
  NO_CREDENTIALS: 'ERR_SPIFFE_TLS_NO_CREDENTIALS',
  /** The peer's X.509-SVID failed SPIFFE verification (see `reason`). */
  PEER_REJECTED: 'ERR_SPIFFE_TLS_PEER_REJECTED',
  /** The peer presented no certificate at all. */
  NO_PEER_CERTIFICATE: 'ERR_SPIFFE_TLS_NO_PEER_CERTIFICATE',
  /** The peer's SVID verified but its ID / trust domain is not on the allow-list. */
  PEER_NOT_ALLOWED: 'ERR_SPIFFE_TLS_PEER_NOT_ALLOWED',
  /** A resumed session whose original verification is unknown (fail closed). */
  RESUMED_UNVERIFIED: 'ERR_SPIFFE_TLS_RESUMED_UNVERIFIED',
  /** TCP connect + TLS handshake + verification took longer than `handshakeTimeoutMs`. */
  HANDSHAKE_TIMEOUT: 'ERR_SPIFFE_TLS_HANDSHAKE_TIMEOUT',
  /** The TLS handshake itself failed (alert, protocol error, reset during the handshake). */
  HANDSHAKE_FAILED: 'ERR_SPIFFE_TLS_HANDSHAKE_FAILED',
  /**
   * The backend refused the proxy's own SVID: it sent a TLS alert (`unknown ca`, `certificate
   * required`, named in the message) or, after a TLS 1.3 handshake, closed before answering.
   * Usual cause: the backend lacks the bundle of the proxy's trust domain or does not allow its ID.
   */
  REFUSED_BY_PEER: 'ERR_SPIFFE_TLS_REFUSED_BY_PEER',
  /** The TCP connection could not be established (the original error is passed on as is). */
  CONNECT_FAILED: 'ERR_SPIFFE_TLS_CONNECT_FAILED',
  /**
   * The backend verified but ALPN did not select the protocol the service requires (`h2` for
   * an HTTP2 backend service): the backend does not speak HTTP/2 over TLS; fix its ALPN setup
   * or set the service's protocol to HTTPS.
   */
  ALPN_MISMATCH: 'ERR_SPIFFE_TLS_ALPN_MISMATCH',
  /** minVersion / maxVersion / groups that cannot work (thrown when a connector or server is made). */
  BAD_PARAMETERS: 'ERR_SPIFFE_TLS_BAD_PARAMETERS'
} as const

/** One of the {@link TLS_ERROR} codes. */
export type TlsErrorCode = typeof TLS_ERROR[keyof typeof TLS_ERROR]

/**
 * The peer was refused: `code` says how (rejected, not allowed, no certificate), `reason` is the
 * precise rule (the `src/spiffe` verification code, e.g. `ERR_SPIFFE_SVID_…`), `cause` the error.
 */
export class TlsPeerRejectedError extends SpiffeLbError {
  readonly reason: string
  constructor (code: TlsErrorCode, reason: string, message: string, options: { at?: string, cause?: unknown } = {}) {
    super(code, message, options)
    this.name = 'TlsPeerRejectedError'
    this.reason = reason
  }
}

/** Returns the most precise stable reason for `err`: a peer rejection's rule, else its code. */
export function reasonOf (err: unknown, fallback: string): string {
  if (err instanceof TlsPeerRejectedError) return err.reason
  if (err instanceof SpiffeLbError) return err.code
  return fallback
}
