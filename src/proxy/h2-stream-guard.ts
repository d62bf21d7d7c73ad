/**
 * Error handling for the HTTP/2 streams undici opens to backends, which the proxy never sees.
 * When a client cancels a forwarded request, undici resets the backend stream and drops its
 * stream object at once; if the backend's response HEADERS for that stream arrive afterwards,
 * Node makes a fresh stream object for them (its server-push path) with no listener at all.
 * That orphan holds the response until the session dies, and the session's death (idle
 * timeout, GOAWAY, reset) then destroys it with an error nobody handles: `uncaughtException`,
 * the whole process down. Node announces every client stream on the
 * `http2.client.stream.created` diagnostics channel; for streams of sessions over sockets
 * {@link guardH2Socket} marked, this module adds an error sink, and cancels orphans at once
 * (RST_STREAM CANCEL), which also frees what they buffered.
 */
import { subscribe } from 'node:diagnostics_channel'
import http2, { type ClientHttp2Stream } from 'node:http2'

/** Marks a backend socket whose HTTP/2 streams this module looks after. */
const GUARDED = Symbol('spiffe-lb.h2-guarded')

let subscribed = false
let orphans = 0

/** A stream error the request's own handler (undici) has already seen or no longer needs. */
function ignore (): void {}

function onStreamCreated (message: unknown): void {
  const { stream } = message as { stream: ClientHttp2Stream }
  if (!guarded(stream)) return
  stream.on('error', ignore)
  // A stream the proxy opened has the headers it sent; one made for received HEADERS has none.
  if (stream.sentHeaders !== undefined) return
  orphans++
  stream.close(http2.constants.NGHTTP2_CANCEL)
}

/** Returns true when `stream` belongs to a session over a socket {@link guardH2Socket} marked. */
function guarded (stream: ClientHttp2Stream): boolean {
  try {
    // `session.socket` is Node's proxy of the session's socket; plain property reads go through.
    return (stream.session?.socket as unknown as Record<symbol, unknown> | undefined)?.[GUARDED] === true
  } catch {
    return false // the session has already let go of its socket
  }
}

/**
 * Marks `socket` (a backend connection that may carry HTTP/2) so that every stream of the
 * HTTP/2 session over it has an error handler and orphaned streams are cancelled.
 */
export function guardH2Socket (socket: object): void {
  if (!subscribed) {
    subscribed = true
    subscribe('http2.client.stream.created', onStreamCreated)
  }
  ;(socket as Record<symbol, unknown>)[GUARDED] = true
}

/** Returns how many orphaned backend streams were cancelled so far (tests, diagnostics). */
export function orphanedStreamsCancelled (): number { return orphans }
