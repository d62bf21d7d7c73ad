/**
 * WebSocket through the proxy (RFC 6455 over HTTP/1.1 `Upgrade`): the upgrade request goes to
 * one endpoint over a fresh connection from the service's mTLS connector, so the backend's
 * SPIFFE ID is verified before any byte of the request is sent. Only a 101 answer makes the
 * client connection a tunnel: bytes are then relayed both ways until either side closes (the
 * other is closed too) or the connection stays idle for the service timeout. Any other answer
 * is relayed as an ordinary response and both connections are closed (refused-upgrade.ts). HTTP2 services get the upgrade on an HTTP/1.1 connection as well (ALPN
 * `http/1.1`): extended CONNECT (RFC 8441) would need every backend to enable it, while
 * every WebSocket server speaks the HTTP/1.1 upgrade.
 */
import type { IncomingMessage } from 'node:http'
import { http } from '../internal/node-http.ts'
import type { Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import type { BackendService } from './backend-service.ts'
import type { Endpoint } from './endpoint.ts'
import { originForm, type ExchangeResult } from './exchange.ts'
import { backendFailure } from './failure.ts'
import type { UpgradeHead } from './frontend.ts'
import { upstreamRequestHeaders } from './headers.ts'
import { withCustomHeaders } from './client-cert-headers.ts'
import type { ClientVerdict } from '../tls/client-verifier.ts'
import { relayRefusedUpgrade } from './refused-upgrade.ts'
import { closeClientWebSocket, isTrustWithdrawn, websocketClose } from './trust-withdrawal.ts'
import { FrameBoundary } from './websocket-frames.ts'

const { request: httpRequest, STATUS_CODES } = http

/** One upgrade request as the frontend hands it over. */
export interface UpgradeRequest {
  req: UpgradeHead
  socket: Duplex
  head: Buffer
  service: BackendService | undefined
  proto: 'http' | 'https'
  closing: () => boolean
  /** The normalised path routed by, sent to the backend (default the request's own target). */
  path?: string
  /** Why the request target was refused (path normalisation): answered 400. */
  refusal?: string
  /** Why the inbound listener refuses this client (allowedPeers): answered 403. */
  denied?: string
  /** The inbound listener's verdict on the client certificate, for the custom request headers. */
  verdict?: ClientVerdict
}

/** Relays one WebSocket session; resolves when both sides are closed. Never rejects. */
export function relayWebSocket (u: UpgradeRequest): Promise<ExchangeResult> {
  const { req, socket, service } = u
  socket.on('error', () => {})
  const refuse = (status: number, message: string, endpoint?: Endpoint): Promise<ExchangeResult> => {
    refuseUpgrade(socket, status, message)
    return Promise.resolve({ status, endpoint, attempts: endpoint === undefined ? 0 : 1, error: message })
  }
  if ((req.headers.upgrade ?? '').toLowerCase() !== 'websocket') return refuse(400, `upgrade to ${JSON.stringify(req.headers.upgrade ?? '')} is not supported, only websocket`)
  if (u.refusal !== undefined) return refuse(400, u.refusal)
  if (u.denied !== undefined) return refuse(403, u.denied)
  if (u.closing()) return refuse(503, 'proxy is shutting down')
  if (service === undefined) return refuse(404, `no route for host ${JSON.stringify(req.headers.host ?? '')} path ${JSON.stringify(req.url ?? '')}`)
  const endpoint = service.pick()
  if (endpoint === undefined) return refuse(503, `no healthy endpoint in backend service ${service.name}`)

  return new Promise((resolve) => {
    endpoint.inFlight++
    endpoint.connectRaw((err, backend) => {
      if (err !== null || backend === null) {
        endpoint.inFlight--
        const failure = backendFailure(endpoint.key, err, false)
        if (failure.eject) service.eject(endpoint, failure.message)
        void refuse(failure.status, failure.message, endpoint).then(resolve)
        return
      }
      if (socket.destroyed) { backend.destroy(); endpoint.inFlight--; resolve({ status: 499, endpoint, attempts: 1, error: 'client closed the connection' }); return }
      relay(u, endpoint, backend, resolve)
    })
  })
}

function relay (u: UpgradeRequest, endpoint: Endpoint, backend: Socket, resolve: (r: ExchangeResult) => void): void {
  const { req, socket } = u
  const method = req.method ?? 'GET'
  const headers = withCustomHeaders(upstreamRequestHeaders(req.rawHeaders, { clientAddress: req.socket.remoteAddress, proto: u.proto }), u.service?.options.customRequestHeaders, u.verdict)
  headers.push('connection', 'Upgrade', 'upgrade', 'websocket')
  // Node's client parser reads the answer: a 101 is an 'upgrade', anything else a 'response'
  // with its framing undone, so the two never get confused.
  const request = httpRequest({ createConnection: () => backend, method, path: u.path ?? originForm(req.url), headers, setHost: false })

  let settled = false
  let answered = false
  let error: string | undefined
  const finish = (status: number, extra: Partial<ExchangeResult> = {}): void => {
    if (settled) return
    settled = true
    endpoint.inFlight--
    const peer = endpoint.peerSpiffeId
    resolve({ status, endpoint, attempts: 1, backendProtocol: 'HTTP/1.1', ...(peer === undefined ? {} : { peerSpiffeId: peer }),
      ...(error === undefined ? {} : { error }), ...extra })
  }
  // Silence for the service timeout ends the exchange: every byte of either direction crosses
  // the backend socket, so its timer sees all activity.
  const idleMs = u.service?.options.timeoutMs ?? 0
  if (idleMs > 0) backend.setTimeout(idleMs, () => { error = `websocket idle for ${idleMs} ms`; socket.destroy(); backend.destroy() })
  backend.on('error', (err: Error) => { error ??= `backend ${endpoint.key} failed: ${err.message}` })
  const clientGone = (): void => { request.destroy(); backend.destroy(); finish(499, { error: 'client closed the connection' }) }
  socket.once('close', clientGone)

  request.once('upgrade', (res: IncomingMessage, _backend: Duplex, rest: Buffer) => {
    answered = true
    socket.off('close', clientGone)
    tunnel(u, res, rest, backend, () => { finish(101) })
  })
  request.once('response', (res: IncomingMessage) => {
    answered = true
    socket.off('close', clientGone)
    const status = res.statusCode ?? 502
    relayRefusedUpgrade(res, method, socket, backend, (end) => {
      finish(status, { ...(end.completed ? {} : { completed: false }), ...(end.error === undefined ? {} : { error: error ?? end.error }) })
    })
  })
  // Node reports a socket error on the request even while the answer's body flows; the answer's
  // own end (refused-upgrade.ts) settles the exchange then.
  request.on('error', (err: Error) => {
    if (answered) { error ??= `backend ${endpoint.key} failed: ${err.message}`; return }
    if (settled || socket.destroyed) return
    socket.off('close', clientGone)
    backend.destroy()
    const message = error ?? `backend ${endpoint.key} failed before answering the upgrade: ${err.message}`
    refuseUpgrade(socket, 502, message)
    finish(502, { error: message })
  })
  request.end()
}

/**
 * Switches the client connection to a tunnel after the backend's 101: the 101 head goes to the
 * client, then the bytes the client sent behind its request (held until now, so a refused
 * upgrade never forwards them), then bytes flow both ways until either side closes.
 */
function tunnel (u: UpgradeRequest, res: IncomingMessage, rest: Buffer, backend: Socket, ended: () => void): void {
  const { socket, head } = u
  let text = `HTTP/1.1 101 ${res.statusMessage ?? 'Switching Protocols'}\r\n`
  for (let i = 0; i + 1 < res.rawHeaders.length; i += 2) text += `${res.rawHeaders[i] ?? ''}: ${res.rawHeaders[i + 1] ?? ''}\r\n`
  socket.write(`${text}\r\n`)
  if (rest.length > 0) socket.write(rest)
  if (head.length > 0) backend.write(head)
  let open = 2
  const closed = (): void => { if (--open === 0) ended() }
  // Frame boundaries let a withdrawal of trust end the session with a Close frame of our own.
  const frames = new FrameBoundary()
  frames.feed(rest)
  let withdrawn: Error | undefined
  backend.on('data', (chunk: Buffer) => { frames.feed(chunk) })
  backend.on('error', (err: Error) => { if (isTrustWithdrawn(err)) withdrawn = err })
  backend.once('close', () => {
    if (withdrawn !== undefined && frames.atBoundary) closeClientWebSocket(socket, websocketClose(withdrawn))
    else socket.destroy()
    closed()
  })
  socket.once('close', () => { backend.destroy(); closed() })
  backend.pipe(socket)
  socket.pipe(backend)
}

/** Answers the upgrade request with `status` and `message` on the raw client connection, then ends it. */
function refuseUpgrade (socket: Duplex, status: number, message: string): void {
  const text = `${message}\n`
  socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\ncontent-type: text/plain; charset=utf-8\r\n` +
    `content-length: ${Buffer.byteLength(text)}\r\nconnection: close\r\n\r\n${text}`)
}
