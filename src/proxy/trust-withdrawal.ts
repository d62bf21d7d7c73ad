/**
 * How the proxy ends client traffic relayed over a backend connection the connector cut because
 * trust in it was withdrawn (docs/architecture.md#security-model): the socket's error is a
 * `TlsTrustWithdrawnError` naming the rule, and each protocol hears it in its own terms.
 * WebSocket: a Close frame, 1008 (policy violation) when the backend no longer verifies, 1011
 * when our own SVID is unusable. gRPC: `UNAVAILABLE` with the reason (exchange.ts). HTTP/2:
 * the stream is reset. HTTP/1.1: the connection is closed mid-response.
 */
import type { Duplex } from 'node:stream'
import { TLS_ERROR } from '../tls/errors.ts'
import { closeFrame } from './websocket-frames.ts'
import { WEBSOCKET_CLOSE_GRACE_MS } from '../defaults.ts'

/** Returns true when `err` says the connector ended the connection because trust was withdrawn. */
export function isTrustWithdrawn (err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code
  return code === TLS_ERROR.PEER_UNTRUSTED || code === TLS_ERROR.SVID_UNUSABLE
}

/**
 * Returns the WebSocket close code and reason for a withdrawal `err`: 1011 when our own SVID is
 * unusable (the proxy cannot go on), else 1008 (the backend broke trust policy).
 */
export function websocketClose (err: unknown): { code: number, reason: string } {
  return (err as { code?: unknown } | null)?.code === TLS_ERROR.SVID_UNUSABLE
    ? { code: 1011, reason: 'proxy credentials expired' }
    : { code: 1008, reason: 'backend no longer trusted' }
}

/**
 * Says goodbye on the client side of a relayed WebSocket with a Close frame (`close`),
 * then closes; a client that does not close its side in return is cut after a short grace.
 */
export function closeClientWebSocket (socket: Duplex, close: { code: number, reason: string }): void {
  if (socket.destroyed) return
  socket.end(closeFrame(close.code, close.reason))
  const timer = setTimeout(() => { socket.destroy() }, WEBSOCKET_CLOSE_GRACE_MS)
  timer.unref()
  socket.once('close', () => { clearTimeout(timer) })
}
