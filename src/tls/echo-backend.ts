import http from 'node:http'
import { tlsError } from './errors.ts'
import type { AddressInfo, Socket } from 'node:net'
import type { TLSSocket } from 'node:tls'
import { parseHostPort } from '../internal/host-port.ts'
import { SpiffeLbError, quote } from '../internal/errors.ts'
import type { VerifiedPeer } from './peer-identity.ts'
import { peerIdentity } from './peer-identity.ts'
import { createSpiffeTlsServer } from './server-options.ts'
import type { RejectEvent, SpiffeTlsServerOptions } from './server-options.ts'
import { ECHO_BACKEND_GRACE_MS } from '../defaults.ts'

/** Counters served at `/stats` (the handshake benchmark reads them). */
export interface EchoBackendStats {
  /** Verified TLS connections accepted (full handshakes and resumptions). */
  connections: number
  /** Of those, the ones that resumed a TLS session. */
  resumed: number
  /** HTTP requests answered, `/stats` itself excluded. */
  requests: number
  /** Clients refused (no certificate, failed verification, not allowed, failed handshake). */
  rejected: number
}

/** Options of {@link startEchoBackend}. */
export interface EchoBackendOptions extends Omit<SpiffeTlsServerOptions, 'onConnection' | 'onReject'> {
  /** Address to listen on, `127.0.0.1:PORT`; port 0 picks a free one. */
  listen: string
  /** Label echoed back as `name`. */
  name?: string
  /** Receives every accepted and refused connection, for the backend's log. */
  onEvent?: (event: { type: 'accepted', remote: string, peer: string, resumed: boolean } | ({ type: 'rejected' } & RejectEvent)) => void
}

/** A running echo backend. */
export interface EchoBackend {
  readonly host: string
  readonly port: number
  /** Returns a copy of the counters. */
  stats (): EchoBackendStats
  /**
   * Stops accepting, lets requests in flight finish, closes idle connections (close_notify),
   * and destroys whatever is left after `graceMs` (default 5 000). Idempotent.
   */
  close (graceMs?: number): Promise<void>
}

/**
 * Starts an mTLS test backend (docs/architecture.md#process-model, `backend`): clients must present an
 * X.509-SVID that verifies against the bundle of their own trust domain (and pass the
 * allow-lists). Every request is answered with JSON `{ peer, self, path, method, name }`;
 * `/healthz` answers `ok`, `/stats` the {@link EchoBackendStats}. Resolves once listening.
 */
export async function startEchoBackend (options: EchoBackendOptions): Promise<EchoBackend> {
  const { host, port } = parseListen(options.listen)
  const stats: EchoBackendStats = { connections: 0, resumed: 0, requests: 0, rejected: 0 }
  const sockets = new Map<TLSSocket, number>() // socket -> requests in flight
  let closing = false

  const app = http.createServer((req, res) => {
    const socket = req.socket as TLSSocket
    sockets.set(socket, (sockets.get(socket) ?? 0) + 1)
    res.once('close', () => {
      const left = (sockets.get(socket) ?? 1) - 1
      sockets.set(socket, left)
      if (closing && left === 0) socket.end()
    })
    if (closing) res.setHeader('connection', 'close')
    const path = req.url ?? '/'
    if (path === '/stats') { sendJson(res, { ...stats }); return }
    stats.requests++
    if (path === '/healthz') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok')
      return
    }
    // Drain any request body, then answer: the echo is about who called, not what was sent.
    req.resume()
    req.once('end', () => {
      sendJson(res, {
        peer: peerIdentity(socket)?.toString() ?? null,
        self: options.snapshots.current()?.svid.id.toString() ?? null,
        path,
        method: req.method ?? 'GET',
        name: options.name ?? null
      })
    })
  })

  const server = createSpiffeTlsServer({
    ...options,
    onConnection: (socket: TLSSocket, peer: VerifiedPeer) => {
      stats.connections++
      if (peer.resumed) stats.resumed++
      sockets.set(socket, 0)
      socket.once('close', () => sockets.delete(socket))
      options.onEvent?.({ type: 'accepted', remote: `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? 0}`, peer: peer.id.toString(), resumed: peer.resumed })
      app.emit('connection', socket)
    },
    onReject: (event) => {
      stats.rejected++
      options.onEvent?.({ type: 'rejected', ...event })
    }
  })

  // Every TCP connection, verified or still in its handshake, so close() can end them all.
  const raw = new Set<Socket>()
  server.on('connection', (socket: Socket) => {
    raw.add(socket)
    socket.once('close', () => raw.delete(socket))
  })

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => { server.off('error', reject); resolve() })
  })
  const address = server.address() as AddressInfo

  let closed: Promise<void> | undefined
  const close = (graceMs = ECHO_BACKEND_GRACE_MS): Promise<void> => {
    closed ??= new Promise<void>((resolve) => {
      closing = true
      const timer = setTimeout(() => { for (const s of raw) s.destroy() }, graceMs)
      timer.unref()
      server.close(() => { clearTimeout(timer); resolve() })
      for (const [socket, inFlight] of sockets) if (inFlight === 0) socket.end()
    })
    return closed
  }

  return { host: address.address, port: address.port, stats: () => ({ ...stats }), close }
}

function sendJson (res: http.ServerResponse, body: unknown): void {
  const text = JSON.stringify(body)
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) }).end(text)
}

/** Returns host and port of a `host:port` listen address (IPv6 as `[::1]:port`; port 0 = any free port). */
export function parseListen (listen: string): { host: string, port: number } {
  const { host, port } = parseHostPort(listen, 'ERR_SPIFFE_TLS_BAD_LISTEN_ADDRESS', 0, tlsError)
  return { host, port }
}
