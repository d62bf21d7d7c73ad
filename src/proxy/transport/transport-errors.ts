/**
 * The failures a transport reports through the handler protocol, coded as undici's own pool
 * reports them (`failure.ts` and the exchange classify by these codes, whichever transport
 * failed). The lean HTTP/1.1 path makes them itself rather than through undici's error
 * classes: loading undici costs a `serve` process about 29 MiB of RSS, which a deployment with
 * HTTP/1.1 backends only then never pays (undici is loaded for HTTP/2 backends, bundle
 * endpoints, the metadata server and CRL URLs).
 */

/** The codes, by what happened. */
export const TRANSPORT_CODES = {
  /** The connection was lost or closed under a request. */
  socket: 'UND_ERR_SOCKET',
  /** No response head within the service timeout. */
  headersTimeout: 'UND_ERR_HEADERS_TIMEOUT',
  /** No response body data within the service timeout. */
  bodyTimeout: 'UND_ERR_BODY_TIMEOUT',
  /** The transport was closing (retired pool). */
  closed: 'UND_ERR_CLOSED',
  /** The transport was destroyed with requests running. */
  destroyed: 'UND_ERR_DESTROYED',
  /** The connection was not established in time. */
  connectTimeout: 'UND_ERR_CONNECT_TIMEOUT'
} as const

/** One of {@link TRANSPORT_CODES}. */
export type TransportCode = typeof TRANSPORT_CODES[keyof typeof TRANSPORT_CODES]

/** A transport failure: its `code` says what happened, the message says where. */
export class TransportError extends Error {
  readonly code: TransportCode
  constructor (code: TransportCode, message: string) {
    super(message)
    this.code = code
    this.name = 'TransportError'
  }
}

/** Returns the failure of `kind` with `message`. */
export function transportError (kind: keyof typeof TRANSPORT_CODES, message: string): TransportError {
  return new TransportError(TRANSPORT_CODES[kind], message)
}
