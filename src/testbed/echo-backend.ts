import type { IncomingMessage } from 'node:http'
import { http } from '../internal/node-http.ts'
import http2 from 'node:http2'
import { tlsError } from '../tls/errors.ts'
import type { AddressInfo, Socket } from 'node:net'
import type { TLSSocket } from 'node:tls'
import { formatHostPort, parseHostPort } from '../internal/host-port.ts'
import { WebSocketServer } from 'ws'
import { createGrpcEcho, isGrpc } from './echo-grpc.ts'
import type { VerifiedPeer } from '../tls/peer-identity.ts'
import { peerIdentity } from '../tls/peer-identity.ts'
import { createSpiffeTlsServer } from '../tls/server-options.ts'
import type { RejectEvent, SpiffeTlsServerOptions } from '../tls/server-options.ts'
import { ECHO_BACKEND_GRACE_MS, ECHO_TICK_MS } from '../defaults.ts'

/** Counters served at `/stats` (the handshake benchmark reads them). */
export interface EchoBackendStats {
  /** Verified TLS connections accepted (full handshakes and resumptions). */
  connections: number
  /** Of those, the ones that resumed a TLS session. */
  resumed: number
  /** HTTP requests answered, `/stats` itself excluded. */
  requests: number
  /** Of `requests`, those that came over HTTP/2 (gRPC included): proves which protocol a client spoke. */
  h2Requests: number
  /** Clients refused (no certificate, failed verification, not allowed, failed handshake). */
  rejected: number
  /** TCP connections open now (verified or still in their handshake). */
  open: number
}

/** Options of {@link startEchoBackend}. */
export interface EchoBackendOptions extends Omit<SpiffeTlsServerOptions, 'onConnection' | 'onReject'> {
  /** Address to listen on, `127.0.0.1:PORT`; port 0 picks a free one. */
  listen: string
  /** Label echoed back as `name`. */
  name?: string
  /** ALPN protocols offered, in order of preference; default `['h2', 'http/1.1']`. */
  alpnProtocols?: string[]
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
 * allow-lists). It speaks HTTP/2 or HTTP/1.1 as ALPN selects. Every request is answered with
 * JSON `{ peer, self, path, method, name, httpVersion }`; `/healthz` answers `ok`, `/ticks`
 * streams a `tick N` line every 100 ms until the client goes away, `/stats` the
 * {@link EchoBackendStats}; `/ws` takes WebSocket upgrades (HTTP/1.1) and echoes each message;
 * gRPC calls reach `grpc.health.v1.Health` and `spiffe_lb.test.Echo` (see echo-grpc.ts).
 * Resolves once listening.
 */
export async function startEchoBackend (options: EchoBackendOptions): Promise<EchoBackend> {
  const { host, port } = parseListen(options.listen)
  const stats: Omit<EchoBackendStats, 'open'> = { connections: 0, resumed: 0, requests: 0, h2Requests: 0, rejected: 0 }
  const sockets = new Map<TLSSocket, number>() // socket -> requests in flight
  const sessions = new Set<http2.ServerHttp2Session>()
  const sessionPeers = new WeakMap<http2.ServerHttp2Session, string>()
  let closing = false
  const grpc = createGrpcEcho()
  const wss = new WebSocketServer({ noServer: true })

  /** Answers one non-gRPC request, whichever protocol carried it. */
  const respond = (req: EchoRequest, send: (type: string, text: string) => void): void => {
    const { path } = req
    if (path === '/stats') { send('application/json', JSON.stringify({ ...stats, open: raw.size })); return }
    stats.requests++
    if (req.httpVersion === '2.0') stats.h2Requests++
    if (path === '/healthz') { send('text/plain', 'ok'); return }
    // Drain any request body, then answer: the echo is about who called, not what was sent.
    req.body.resume()
    req.body.once('end', () => {
      send('application/json', JSON.stringify({
        peer: req.peer,
        self: options.snapshots.current()?.svid.id.toString() ?? null,
        path,
        method: req.method,
        name: options.name ?? null,
        httpVersion: req.httpVersion
      }))
    })
  }

  const app = http.createServer((req, res) => {
    const socket = req.socket as TLSSocket
    sockets.set(socket, (sockets.get(socket) ?? 0) + 1)
    res.once('close', () => {
      const left = (sockets.get(socket) ?? 1) - 1
      sockets.set(socket, left)
      if (closing && left === 0) socket.end()
    })
    if (closing) res.setHeader('connection', 'close')
    if (req.url === '/ticks') { stats.requests++; res.writeHead(200, { 'content-type': 'text/plain' }); tick(res); return }
    respond({ path: req.url ?? '/', method: req.method ?? 'GET', httpVersion: req.httpVersion, peer: peerIdentity(socket)?.toString() ?? null, body: req },
      (type, text) => { res.writeHead(200, { 'content-type': type, 'content-length': Buffer.byteLength(text) }).end(text) })
  })
  app.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
    if (req.url !== '/ws' || closing) { socket.end('HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n'); return }
    stats.requests++
    sockets.delete(socket as TLSSocket) // the WebSocket owns it now; close() says 1001 to it
    wss.handleUpgrade(req, socket, head, (ws) => {
      ws.on('message', (data, isBinary) => { ws.send(data, { binary: isBinary }) })
    })
  })

  // One HTTP/2 server for every connection that selected h2: gRPC streams go to the gRPC
  // services, every other request to the same handlers as HTTP/1.1.
  const app2 = http2.createServer()
  let accepting: string | null = null
  app2.on('session', (session: http2.ServerHttp2Session) => {
    if (accepting !== null) sessionPeers.set(session, accepting)
    sessions.add(session)
    session.once('close', () => sessions.delete(session))
    if (closing) session.close()
  })
  // The core stream API, not the compatibility one: gRPC streams need their trailers to ourselves.
  app2.on('stream', (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders) => {
    stream.on('error', () => {})
    if (isGrpc(headers)) { stats.requests++; stats.h2Requests++; grpc.handle(stream, headers); return }
    if (headers[':path'] === '/ticks') {
      stats.requests++
      stats.h2Requests++
      stream.respond({ ':status': 200, 'content-type': 'text/plain' })
      tick(stream)
      return
    }
    const peer = stream.session === undefined ? null : sessionPeers.get(stream.session as http2.ServerHttp2Session) ?? null
    respond({ path: headers[':path'] ?? '/', method: headers[':method'] ?? 'GET', httpVersion: '2.0', peer, body: stream },
      (type, text) => { stream.respond({ ':status': 200, 'content-type': type, 'content-length': Buffer.byteLength(text) }); stream.end(text) })
  })

  const server = createSpiffeTlsServer({
    ...options,
    alpnProtocols: options.alpnProtocols ?? ['h2', 'http/1.1'],
    onConnection: (socket: TLSSocket, peer: VerifiedPeer) => {
      stats.connections++
      if (peer.resumed) stats.resumed++
      options.onEvent?.({ type: 'accepted', remote: formatHostPort(socket.remoteAddress ?? '?', socket.remotePort ?? 0), peer: peer.id.toString(), resumed: peer.resumed })
      if (socket.alpnProtocol === 'h2') {
        accepting = peer.id.toString()
        app2.emit('connection', socket)
        accepting = null
        return
      }
      sockets.set(socket, 0)
      socket.once('close', () => sockets.delete(socket))
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
      server.close(() => { clearTimeout(timer); grpc.close(); resolve() })
      for (const [socket, inFlight] of sockets) if (inFlight === 0) socket.end()
      for (const session of sessions) session.close() // GOAWAY; open streams finish
      for (const ws of wss.clients) ws.close(1001, 'backend closing')
    })
    return closed
  }

  return { host: address.address, port: address.port, stats: () => ({ ...stats, open: raw.size }), close }
}

/** Writes `tick N` lines to `out` every ECHO_TICK_MS until it closes: a long streaming answer. */
function tick (out: NodeJS.WritableStream & { once (event: 'close', fn: () => void): unknown }): void {
  let n = 0
  const write = (): void => { out.write(`tick ${n++}\n`) }
  const timer = setInterval(write, ECHO_TICK_MS)
  write()
  out.once('close', () => { clearInterval(timer) })
}

/** What the echo needs of a request, HTTP/1.1 or HTTP/2. */
interface EchoRequest {
  path: string
  method: string
  httpVersion: string
  peer: string | null
  body: NodeJS.ReadableStream
}

/** Returns host and port of a `host:port` listen address (IPv6 as `[::1]:port`; port 0 = any free port). */
export function parseListen (listen: string): { host: string, port: number } {
  const { host, port } = parseHostPort(listen, 'ERR_SPIFFE_TLS_BAD_LISTEN_ADDRESS', 0, tlsError)
  return { host, port }
}
