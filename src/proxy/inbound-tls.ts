/**
 * The inbound side of the TLS frontend (`frontend.serverTlsPolicy`): every client certificate is
 * judged by the SPIFFE client verifier (src/tls/client-verifier.ts) once the handshake is done and
 * before the HTTP layer reads a byte. `REJECT_INVALID` destroys the connection of a missing or
 * invalid certificate, so the application receives nothing; `ALLOW_INVALID_OR_MISSING_CLIENT_CERT`
 * hands it on with its verdict, which the custom request headers tell the application. A
 * verified client outside `allowedPeers` is answered 403 per request. Open connections follow
 * trust: a trust change that no longer verifies a client, and the expiry of its certificate, end
 * the connection and its streams.
 */
import type { IncomingMessage } from 'node:http'
import type { Http2SecureServer, Http2ServerRequest } from 'node:http2'
import type { TLSSocket, TlsOptions } from 'node:tls'
import type { TimerHandle } from '../internal/clock.ts'
import { formatHostPort } from '../internal/host-port.ts'
import type { ClientVerdict } from '../tls/client-verifier.ts'
import type { FrontendOptions, InboundEvent, InboundTlsOptions } from './types.ts'

/** What the proxy asks of an installed inbound listener. */
export interface InboundTls {
  /** Returns the verdict on the client connection `req` arrived on (undefined off an inbound listener). */
  verdictOf (req: IncomingMessage | Http2ServerRequest): ClientVerdict | undefined
  /** Returns the number of verified client connections open now. */
  openConnections (): number
  /** Stops following trust changes and expiries. */
  close (): void
}

/** Returns the TLS options of the frontend's secure server: the static certificate, or the inbound verifier's. */
export function secureServerOptions (options: FrontendOptions): TlsOptions {
  if (options.inbound !== undefined) return options.inbound.verifier.serverOptions()
  return options.tls === undefined ? {} : { cert: options.tls.cert, key: options.tls.key }
}

const VERDICT = Symbol('spiffe-lb.inbound-verdict')
type Judged = TLSSocket & { [VERDICT]?: ClientVerdict }

/**
 * Puts the client verification in front of `server`'s HTTP handling (its `secureConnection`
 * listeners run only for sockets the mode admits) and returns the verdict lookup.
 */
export function installInbound (server: Http2SecureServer, options: InboundTlsOptions): InboundTls {
  const { verifier, mode, clock } = options
  const live = new Map<Judged, { client: string, timer: TimerHandle | undefined }>()
  const emit = (outcome: InboundEvent['outcome'], client: string, verdict: ClientVerdict): void => {
    options.onEvent?.({ outcome, client, verdict })
  }
  const end = (socket: Judged, verdict: ClientVerdict): void => {
    const entry = live.get(socket)
    if (entry === undefined) return
    forget(socket)
    emit('ended', entry.client, verdict)
    socket.destroy()
  }
  const forget = (socket: Judged): void => {
    const timer = live.get(socket)?.timer
    if (timer !== undefined) clock.clearTimeout(timer)
    live.delete(socket)
  }
  const expireAt = (socket: Judged, verdict: ClientVerdict): TimerHandle | undefined => {
    if (verdict.expiresAt === undefined) return undefined
    const timer = clock.setTimeout(() => {
      const entry = live.get(socket)
      if (entry !== undefined) end(socket, verifier.recheck(verdict, entry.client))
    }, Math.max(0, verdict.expiresAt - clock.now() + 1))
    timer.unref()
    return timer
  }

  // The HTTP/2 server's own handler (which also serves HTTP/1.1) runs only after the verdict.
  const handlers = server.listeners('secureConnection') as Array<(socket: TLSSocket) => void>
  server.removeAllListeners('secureConnection')
  server.on('secureConnection', (socket: Judged) => {
    const client = formatHostPort(socket.remoteAddress ?? '?', socket.remotePort ?? 0)
    const verdict = verifier.verify(socket, client)
    if (!verdict.verified && mode === 'REJECT_INVALID') {
      emit('refused', client, verdict)
      socket.destroy()
      return
    }
    socket[VERDICT] = verdict
    emit(verdict.allowed ? 'accepted' : verdict.verified ? 'not-allowed' : 'forwarded', client, verdict)
    if (verdict.verified) {
      live.set(socket, { client, timer: expireAt(socket, verdict) })
      socket.once('close', () => { forget(socket) })
    }
    for (const handler of handlers) handler.call(server, socket)
  })

  const stop = verifier.onTrustChange(() => {
    for (const [socket, entry] of [...live]) {
      const previous = socket[VERDICT]
      if (previous === undefined) continue
      const next = verifier.recheck(previous, entry.client)
      if (!next.verified) { end(socket, next); continue }
      socket[VERDICT] = next
    }
  })
  const detach = verifier.attach(server)

  return {
    verdictOf (req) {
      // HTTP/2: the request's socket is a proxy whose property reads reach the TLS socket.
      const socket = (req.httpVersionMajor === 2 ? (req as Http2ServerRequest).stream.session?.socket : req.socket) as Judged | undefined
      return socket?.[VERDICT]
    },
    openConnections: () => live.size,
    close () {
      stop()
      detach()
      for (const socket of live.keys()) forget(socket)
    }
  }
}
