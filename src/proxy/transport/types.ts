/**
 * The seam between an exchange (routing, retries, breakers, outlier detection, timeouts,
 * header rules, log and metrics) and the wire protocol towards one endpoint. A transport
 * opens or reuses a verified connection, sends a request head and streams its body, and
 * reports the response head, body and end, or a failure, through the handler protocol of
 * undici's `dispatch` (the exchange already speaks it, and undici's HTTP/2 pool implements it
 * as is). Failures carry a `code` that `failure.ts` classifies: a connector code (refused
 * identity, connect failure), `UND_ERR_SOCKET` (connection lost), `UND_ERR_HEADERS_TIMEOUT` /
 * `UND_ERR_BODY_TIMEOUT`, or llhttp's `HPE_*` for a response whose framing was refused.
 *
 * Implementations: `http1-transport.ts` (HTTP/1.1 over pooled raw mTLS sockets, the lean
 * path), undici's `Pool` with `allowH2` (HTTP/2 and gRPC); WebSocket relays take a raw
 * verified connection (`Endpoint.connectRaw`).
 */
import type { Dispatcher } from 'undici'

/**
 * What the exchange hears back: undici's dispatch handler protocol, plus `onResponseStartRaw`,
 * which transports that parse HTTP/1.1 themselves call instead of `onResponseStart` when the
 * handler has it: the fields as received, a flat `[name, value, …]` list, with no header
 * object built on the way (undici's own dispatchers ignore it).
 */
export interface TransportHandler extends Dispatcher.DispatchHandler {
  onResponseStartRaw?: (controller: Dispatcher.DispatchController, statusCode: number, fields: readonly string[], statusMessage: string) => void
}

/** Context of `onRequestStart`: the identity the serving connection proved, and whether it was reused. */
export interface RequestStartContext {
  peerSpiffeId?: string
  reused?: boolean
}

/** One endpoint's connections of one protocol. */
export interface Transport {
  /** Sends `request`; the handler hears everything else. Returns false when the transport is closed. */
  dispatch (request: Dispatcher.DispatchOptions, handler: TransportHandler): boolean
  /** Stops taking requests; resolves once the running ones finished (idle connections close at once). */
  close (): Promise<void>
  /** Aborts the running requests and closes every connection. */
  destroy (): Promise<void>
}
