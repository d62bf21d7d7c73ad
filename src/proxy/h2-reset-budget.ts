/**
 * The per-connection budget of reset HTTP/2 streams (`frontend.limits.http2MaxResetStreams`
 * per `http2ResetStreamsWindow`), against "rapid reset" (CVE-2023-44487): a client that opens
 * streams and cancels them at once makes the proxy and its backends start work it never waits
 * for, at no cost to itself. As Envoy's "premature reset" rule does, a stream counts when the
 * client reset it before its response began; a cancelled download or gRPC watch whose answer
 * was under way is ordinary client behaviour and does not count. One reset past the budget and
 * the connection is sent GOAWAY ENHANCE_YOUR_CALM and no longer read (what the client sends
 * after it costs nothing, and its writes stall), and after a short grace (so the GOAWAY is
 * flushed before the socket goes, also through the h2c replaying socket) the connection is
 * closed; its open streams end with it, which cancels their backend requests.
 */
import http2, { type Http2Stream, type ServerHttp2Session } from 'node:http2'
import type { FrontendLimits } from './types.ts'
import { FRONTEND_HTTP2_GOAWAY_GRACE_MS } from '../defaults.ts'

/** The budget of one session. */
export interface ResetBudget {
  /** True once the session was sent GOAWAY ENHANCE_YOUR_CALM: its remaining streams need no work. */
  readonly exceeded: boolean
}

/** Watches `session`'s streams; calls `exceeded` once, when the budget runs out and the session is closed. */
export function enforceResetBudget (session: ServerHttp2Session,
  limits: Pick<FrontendLimits, 'http2MaxResetStreams' | 'http2ResetStreamsWindowMs'>, exceeded: () => void): ResetBudget {
  let windowStart = 0
  let resets = 0
  let calmed = false
  const count = (stream: Http2Stream & { headersSent?: boolean }): void => {
    const code = stream.rstCode
    if (code === undefined || code === http2.constants.NGHTTP2_NO_ERROR || stream.headersSent === true) return
    if (calmed || session.destroyed) return
    const now = Date.now()
    if (now - windowStart >= limits.http2ResetStreamsWindowMs) {
      windowStart = now
      resets = 0
    }
    if (++resets <= limits.http2MaxResetStreams) return
    calmed = true
    session.goaway(http2.constants.NGHTTP2_ENHANCE_YOUR_CALM)
    stopReading(session)
    const timer = setTimeout(() => { session.destroy() }, FRONTEND_HTTP2_GOAWAY_GRACE_MS)
    timer.unref()
    session.once('close', () => { clearTimeout(timer) })
    exceeded()
  }
  // First among the session's listeners: a stream reset in the same read as its HEADERS is
  // counted before the request handler sees it, so one read full of them trips the budget early
  // and the rest of that read is skipped (see `exceeded`).
  session.prependListener('stream', (stream: Http2Stream) => {
    if (stream.closed || stream.destroyed) count(stream)
    else stream.once('close', () => { count(stream) })
  })
  return { get exceeded () { return calmed } }
}

/**
 * Stops reading the session's connection. Node's session reads its socket's native handle
 * directly (the socket's own `pause()` would not stop it, and the session's socket proxy refuses
 * it), so the read is stopped on that handle: the TCP or TLS one, or for h2c the JS stream over
 * the replaying socket, which then pauses the TCP socket once its buffer is full.
 */
function stopReading (session: ServerHttp2Session): void {
  try {
    const handle = (session.socket as unknown as { _handle?: { readStop?: () => unknown } })._handle
    handle?.readStop?.()
  } catch {
    // The socket is already gone: nothing left to read.
  }
}
