/**
 * What a failed backend attempt means for the client (docs/architecture.md#layers proxy): the status to
 * answer, a one-line reason naming the endpoint, and whether to eject the endpoint and retry
 * elsewhere. Only failures before the request was handed to a connection are retryable: after
 * that the backend may have acted on it.
 */
import { TLS_ERROR } from '../tls/errors.ts'
import { describeError } from './health-check.ts'
import { TRANSPORT_CODES } from './transport/transport-errors.ts'

/** The verdict on one failed attempt. */
export interface Failure {
  status: number
  /** One line, e.g. `backend 127.0.0.1:9443 rejected: <reason> (<code>)`. */
  message: string
  /** Passive ejection: the endpoint could not be connected to (or failed verification). */
  eject: boolean
  /** Nothing was sent, so another endpoint may be tried. */
  retryable: boolean
  /**
   * What outlier detection counts: `rejected` (identity refused: ejected at once), `connect`
   * (no connection), `gateway` (timeout, reset, failure mid-request), or `none` (not the
   * endpoint's fault).
   */
  kind: 'rejected' | 'connect' | 'gateway' | 'none'
}

/** Connector codes meaning "the backend was reached but its identity was refused". */
const REJECTED: ReadonlySet<string> = new Set([
  TLS_ERROR.PEER_REJECTED, TLS_ERROR.PEER_NOT_ALLOWED, TLS_ERROR.NO_PEER_CERTIFICATE, TLS_ERROR.RESUMED_UNVERIFIED
])

const TIMEOUTS: ReadonlySet<string> = new Set([TRANSPORT_CODES.headersTimeout, TRANSPORT_CODES.bodyTimeout])
const POOL_GONE: ReadonlySet<string> = new Set([TRANSPORT_CODES.destroyed, TRANSPORT_CODES.closed])

/** Returns the verdict for `err` on endpoint `key`; `started` = the request reached a socket. */
export function backendFailure (key: string, err: unknown, started: boolean): Failure {
  const code = codeOf(err)
  if (code === 'UND_ERR_INVALID_ARG') {
    return { status: 400, message: `request cannot be forwarded: ${describeError(err)}`, eject: false, retryable: false, kind: 'none' }
  }
  if (code !== undefined && TIMEOUTS.has(code)) {
    return { status: 504, message: `backend ${key} timed out: ${describeError(err)}`, eject: false, retryable: false, kind: 'gateway' }
  }
  if (code === TLS_ERROR.REFUSED_BY_PEER) {
    // The backend refused our own SVID: the message names its alert; another endpoint of
    // the same service most likely trusts the same bundles, so no retry and no ejection.
    return { status: 502, message: describeError(err), eject: false, retryable: false, kind: 'none' }
  }
  if (code === TLS_ERROR.SVID_REFUSED_AFTER_HANDSHAKE) {
    // The handshake passed, then the backend answered with its client-certificate error: the
    // endpoint counts as failed (outlier detection), and its page is not the application's answer.
    return { status: 502, message: describeError(err), eject: false, retryable: false, kind: 'gateway' }
  }
  if (code === TLS_ERROR.PEER_UNTRUSTED || code === TLS_ERROR.SVID_UNUSABLE) {
    // Trust in an open connection was withdrawn (the message names the backend and the rule):
    // new connections meet the same verdict at their handshake, which ejects as it should.
    return { status: 502, message: describeError(err), eject: false, retryable: false, kind: 'none' }
  }
  if (started) {
    return { status: 502, message: `backend ${key} failed: ${describeError(err)}`, eject: false, retryable: false, kind: 'gateway' }
  }
  if (code !== undefined && REJECTED.has(code)) {
    return { status: 502, message: `backend ${key} rejected: ${rejectionReason(err)}`, eject: true, retryable: true, kind: 'rejected' }
  }
  if (code === TLS_ERROR.NO_CREDENTIALS) {
    // Our own SVID is missing or expired: no endpoint is at fault and none would do better.
    return { status: 502, message: describeError(err), eject: false, retryable: false, kind: 'none' }
  }
  if (code !== undefined && POOL_GONE.has(code)) {
    return { status: 502, message: `backend ${key} unavailable: ${describeError(err)}`, eject: false, retryable: true, kind: 'none' }
  }
  return { status: 502, message: `backend ${key} connect failed: ${describeError(err)}`, eject: true, retryable: true, kind: 'connect' }
}

/**
 * Returns `<reason> (<code>)` for a refused backend: the verification error's own message when
 * the connector wrapped one (`cause`), and the precise rule (`reason`, e.g.
 * `ERR_SPIFFE_VERIFY_NO_BUNDLE`) rather than the generic rejection code.
 */
export function rejectionReason (err: unknown): string {
  const cause = err instanceof Error ? err.cause : undefined
  const text = cause instanceof Error ? cause.message : err instanceof Error ? err.message : String(err)
  const reason = (err as { reason?: unknown } | null)?.reason
  const code = typeof reason === 'string' && reason !== '' ? reason : codeOf(cause) ?? codeOf(err) ?? TLS_ERROR.PEER_REJECTED
  return `${oneLine(text)} (${code})`
}

function codeOf (err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code
  return typeof code === 'string' ? code : undefined
}

function oneLine (s: string): string {
  return s.replace(/\s+/g, ' ').trim()
}
