/**
 * The client-facing listener: cleartext serves HTTP/1.1 and h2c with prior knowledge on one
 * port (the connection preface decides, see h2c-sniff.ts); TLS negotiates `h2` or `http/1.1`
 * by ALPN (one `node:http2` secure server with `allowHTTP1`). Cleartext HTTP/1.1 goes to the
 * lean frontend (lean-frontend.ts: no node:http object model), the rest through Node's HTTP/2
 * compatibility API; all reach the same handler, and HTTP/1.1 upgrades go to `onUpgrade`.
 * `frontend.limits` bound every path: maxConnections counts TCP connections whatever they
 * speak; HTTP/1.1 gets the same timeouts and header cap as node:http (the lean frontend
 * applies them itself, node:http over TLS); a cleartext connection that sends no
 * first byte within headersTimeout is closed before any protocol is chosen; an HTTP/2 header
 * list above maxHeaderSize is refused; an HTTP/2 request not fully received within
 * requestTimeout is cancelled (408 when nothing was answered yet), as Node does for HTTP/1.1;
 * an HTTP/2 session without open streams for keepAliveTimeout is sent GOAWAY; an HTTP/2
 * client may have http2MaxConcurrentStreams streams open, and one that resets more than
 * http2MaxResetStreams streams before their answer began is sent GOAWAY ENHANCE_YOUR_CALM and
 * closed (h2-reset-budget.ts).
 */
import type { IncomingMessage, ServerOptions } from 'node:http'
import { http } from '../internal/node-http.ts'
import http2, { type Http2ServerRequest, type Http2ServerResponse, type Http2Stream, type ServerHttp2Session } from 'node:http2'
import net, { type Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import { routeByPreface } from './h2c-sniff.ts'
import { enforceResetBudget, type ResetBudget } from './h2-reset-budget.ts'
import { installInbound, secureServerOptions, type InboundTls } from './inbound-tls.ts'
import { createLeanFrontend, type LeanLimitName } from './lean-frontend.ts'
import type { LeanRequest } from './lean-request.ts'
import { LeanResponse } from './lean-response.ts'
import type { FrontResponse } from './front-response.ts'
import { headerObject } from './transport/header-object.ts'
import { FRONTEND_TIMEOUT_CHECK_MS, frontendLimits } from './limits.ts'
import type { FrontendLimits, FrontendOptions } from './types.ts'

export type { FrontResponse } from './front-response.ts'

/** A frontend request: cleartext HTTP/1.1 (lean path), HTTP/1.1 over TLS, or HTTP/2 (compatibility API). */
export type FrontRequest = LeanRequest | IncomingMessage | Http2ServerRequest
/** An HTTP/1.1 upgrade request, from the lean path or node:http. */
export type UpgradeHead = LeanRequest | IncomingMessage

/** Sends the response head (status and the headers set so far) now, on either protocol. */
export function sendHead (res: FrontResponse, status: number): void {
  if (res instanceof LeanResponse) res.writeHead(status)
  else if (res instanceof http.ServerResponse) res.writeHead(status)
  else (res as Http2ServerResponse).writeHead(status)
}

/**
 * Sets a relayed answer's fields (a flat `[name, value, …]` list, hop-by-hop ones dropped) on
 * either protocol: the lean response writes the list as it is, the others take a header object.
 */
export function setRelayedFields (res: FrontResponse, fields: readonly string[]): void {
  if (res instanceof LeanResponse) { res.forward(fields); return }
  const out = headerObject(fields)
  for (const name of Object.keys(out)) res.setHeader(name, out[name] as string | string[])
}

/** Writes a body chunk on either protocol; returns false when the caller should wait for 'drain'. */
export function writeChunk (res: FrontResponse, chunk: Buffer): boolean {
  if (res instanceof LeanResponse) return res.write(chunk)
  return res instanceof http.ServerResponse ? res.write(chunk) : (res as Http2ServerResponse).write(chunk)
}

/** The listener and what closing it needs. */
export interface Frontend {
  /** The listening server (`listen`, `close`, `address`). */
  readonly server: net.Server
  /** Returns the client's address; for h2c the socket Node shows the handler has none. */
  clientAddress (req: FrontRequest): string | undefined
  /** Asks idle HTTP/1.1 connections to close and HTTP/2 clients to go away (GOAWAY). */
  closeIdle (): void
  /** Cuts every connection. */
  closeAll (): void
  /** The inbound mTLS side (`frontend.inbound`), when configured. */
  readonly inbound: InboundTls | undefined
}

/** The `frontend.limits` keys the frontend reports hits of (TLS HTTP/1.1's are enforced inside Node and not reported). */
export type FrontendLimitName = 'http2MaxResetStreams' | LeanLimitName

/** Called when a client hits the frontend limit `limit`; `client` is its address. */
export type FrontendLimitListener = (limit: FrontendLimitName, client: string | undefined) => void

/** Returns the frontend for `options`, not yet listening. */
export function createFrontend (options: FrontendOptions, handle: (req: FrontRequest, res: FrontResponse) => void,
  onUpgrade: (req: UpgradeHead, socket: Duplex, head: Buffer) => void, onLimit: FrontendLimitListener = () => {}): Frontend {
  const limits = frontendLimits(options.limits)
  const sessions = new Set<ServerHttp2Session>()
  const sockets = new Set<Duplex>()
  const addresses = new WeakMap<ServerHttp2Session, string | undefined>()
  const budgets = new WeakMap<ServerHttp2Session, ResetBudget>()
  let accepting: string | undefined
  const track = (session: ServerHttp2Session): void => {
    addresses.set(session, accepting)
    sessions.add(session)
    session.once('close', () => sessions.delete(session))
    idleGoaway(session, limits.keepAliveTimeoutMs)
    budgets.set(session, enforceResetBudget(session, limits, () => { onLimit('http2MaxResetStreams', addresses.get(session)) }))
  }
  const h2Client = (req: Http2ServerRequest): string | undefined => {
    const session = req.stream.session
    return (session === undefined ? undefined : addresses.get(session as ServerHttp2Session)) ?? req.socket.remoteAddress
  }
  const h2Handle = (req: FrontRequest, res: FrontResponse): void => {
    if (req.httpVersionMajor === 2) {
      const stream = (res as Http2ServerResponse).stream
      const gone = stream.closed || stream.destroyed
      // A reset stream of a connection past its reset budget: nothing to answer, log or forward.
      if (gone && budgets.get(stream.session as ServerHttp2Session)?.exceeded === true) return
      // The SETTINGS value only advises the client; Node does not enforce it on what arrives.
      if (headerListSize(req.rawHeaders) > limits.maxHeaderSize) {
        const text = `request header list above frontend.limits.maxHeaderSize (${limits.maxHeaderSize} bytes)\n`
        onLimit('maxHeaderSize', h2Client(req as Http2ServerRequest))
        const h2res = res as Http2ServerResponse
        h2res.writeHead(431, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(text) })
        h2res.end(text)
        return
      }
      // A stream the client already reset (rapid reset) needs no timer: the exchange ends at once.
      if (!gone) {
        boundRequestTime(req as Http2ServerRequest, res as Http2ServerResponse, limits.requestTimeoutMs, () => { onLimit('requestTimeout', h2Client(req as Http2ServerRequest)) })
      }
    }
    handle(req, res)
  }
  const h2Options = { settings: { maxHeaderListSize: limits.maxHeaderSize, maxConcurrentStreams: limits.http2MaxConcurrentStreams } }

  let server: net.Server
  let lean: ReturnType<typeof createLeanFrontend> | undefined
  let inbound: InboundTls | undefined
  if (options.tls === undefined && options.inbound === undefined) {
    const h1 = createLeanFrontend(limits, { request: handle, upgrade: onUpgrade, limit: onLimit })
    lean = h1
    const h2 = http2.createServer(h2Options, h2Handle)
    h2.on('session', track)
    server = net.createServer((socket: Socket) => {
      sockets.add(socket)
      socket.once('close', () => sockets.delete(socket))
      socket.on('error', () => {}) // a client reset before its first bytes
      routeByPreface(socket, limits.headersTimeoutMs, (s) => { h1.accept(s) }, (s) => {
        accepting = socket.remoteAddress
        h2.emit('connection', s)
        accepting = undefined
      })
    })
  } else {
    const secure = http2.createSecureServer({ ...h2Options, ...secureServerOptions(options), allowHTTP1: true }, h2Handle)
    if (options.inbound !== undefined) inbound = installInbound(secure, options.inbound)
    // allowHTTP1 runs Node's HTTP/1.1 connection handling, which reads its limits from the server.
    Object.assign(secure, h1Options(limits))
    secure.on('session', (session: ServerHttp2Session) => { accepting = session.socket.remoteAddress; track(session); accepting = undefined })
    secure.on('upgrade', onUpgrade)
    secure.on('connection', (socket: Socket) => {
      sockets.add(socket)
      socket.once('close', () => sockets.delete(socket))
    })
    server = secure
  }
  server.maxConnections = limits.maxConnections

  if (inbound !== undefined) server.on('close', () => { inbound?.close() })
  return {
    server,
    inbound,
    clientAddress (req) {
      return req.httpVersionMajor === 2 ? h2Client(req as Http2ServerRequest) : req.socket.remoteAddress
    },
    closeIdle () {
      lean?.closeIdle()
      for (const s of sessions) s.close()
    },
    closeAll () {
      lean?.closeAll()
      for (const s of sessions) s.destroy()
      for (const s of sockets) s.destroy()
    }
  }
}

/** Node's HTTP/1.1 server options for `limits`. */
function h1Options (limits: FrontendLimits): ServerOptions & { connectionsCheckingInterval: number } {
  return {
    maxHeaderSize: limits.maxHeaderSize,
    headersTimeout: limits.headersTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    // Node checks both timeouts on this period (default 30 s, which would let a slowloris
    // client keep its connection far longer than headersTimeout).
    connectionsCheckingInterval: Math.min(FRONTEND_TIMEOUT_CHECK_MS, limits.headersTimeoutMs)
  }
}

/** Sends GOAWAY to `session` once it had no open stream and no traffic for `idleMs`. */
function idleGoaway (session: ServerHttp2Session, idleMs: number): void {
  let open = 0
  session.on('stream', (stream: Http2Stream) => { open++; stream.once('close', () => { open-- }) })
  // The timer re-arms on any frame; while streams are open (a quiet gRPC watch) it is not idle.
  session.setTimeout(idleMs, () => { if (open === 0) session.close() })
}

/**
 * Cancels an HTTP/2 request whose body has not fully arrived within `timeoutMs` (Node's
 * requestTimeout for HTTP/1.1): 408 when nothing was answered yet, else the stream is reset.
 */
function boundRequestTime (req: Http2ServerRequest, res: Http2ServerResponse, timeoutMs: number, hit: () => void): void {
  if (req.complete) return
  const timer = setTimeout(() => {
    if (req.complete || res.stream.destroyed) return
    hit()
    if (!res.headersSent) {
      const text = `request not received within frontend.limits.requestTimeout (${timeoutMs} ms)\n`
      res.writeHead(408, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(text) })
      res.end(text)
    }
    res.stream.close(http2.constants.NGHTTP2_CANCEL)
  }, timeoutMs)
  timer.unref()
  const done = (): void => { clearTimeout(timer) }
  req.once('end', done)
  res.stream.once('close', done)
}

/** The header list size RFC 9113 section 6.5.2 defines: name and value octets plus 32 per field. */
function headerListSize (raw: readonly string[]): number {
  let size = 0
  for (const field of raw) size += Buffer.byteLength(field)
  return size + 16 * raw.length
}
