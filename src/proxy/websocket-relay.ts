/**
 * WebSocket through the proxy (RFC 6455 over HTTP/1.1 `Upgrade`): the upgrade request goes to
 * one endpoint over a fresh connection from the service's mTLS connector, so the backend's
 * SPIFFE ID is verified before any byte of the request is sent, then bytes are relayed both
 * ways until either side closes (the other is closed too) or the connection stays idle for the
 * service timeout. HTTP2 services get the upgrade on an HTTP/1.1 connection as well (ALPN
 * `http/1.1`): extended CONNECT (RFC 8441) would need every backend to enable it, while
 * every WebSocket server speaks the HTTP/1.1 upgrade.
 */
import type { IncomingMessage } from 'node:http'
import { STATUS_CODES } from 'node:http'
import type { Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import type { BackendService } from './backend-service.ts'
import type { Endpoint } from './endpoint.ts'
import { originForm, type ExchangeResult } from './exchange.ts'
import { backendFailure } from './failure.ts'
import { upstreamRequestHeaders } from './headers.ts'
import { withCustomHeaders } from './client-cert-headers.ts'
import type { ClientVerdict } from '../tls/client-verifier.ts'

/** One upgrade request as the frontend hands it over. */
export interface UpgradeRequest {
  req: IncomingMessage
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
    const text = `${message}\n`
    socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\ncontent-type: text/plain; charset=utf-8\r\n` +
      `content-length: ${Buffer.byteLength(text)}\r\nconnection: close\r\n\r\n${text}`)
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
  const { req, socket, head } = u
  const headers = withCustomHeaders(upstreamRequestHeaders(req.rawHeaders, { clientAddress: req.socket.remoteAddress, proto: u.proto }), u.service?.options.customRequestHeaders, u.verdict)
  let text = `${req.method ?? 'GET'} ${u.path ?? originForm(req.url)} HTTP/1.1\r\n`
  for (let i = 0; i + 1 < headers.length; i += 2) text += `${headers[i] ?? ''}: ${headers[i + 1] ?? ''}\r\n`
  text += 'connection: Upgrade\r\nupgrade: websocket\r\n\r\n'
  backend.write(text)
  if (head.length > 0) backend.write(head)

  let status = 0
  let error: string | undefined
  let open = 2
  const closed = (): void => {
    if (--open > 0) return
    endpoint.inFlight--
    const peer = endpoint.peerSpiffeId
    resolve({ status: status === 0 ? 502 : status, endpoint, attempts: 1, backendProtocol: 'HTTP/1.1',
      ...(peer === undefined ? {} : { peerSpiffeId: peer }),
      ...(error === undefined ? (status === 0 ? { error: 'backend closed before answering the upgrade' } : {}) : { error }) })
  }
  backend.once('data', (first: Buffer) => {
    status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(first.subarray(0, 16).toString('latin1'))?.[1] ?? 0)
  })
  // A close on either side closes the other; so does silence for the service timeout (every
  // byte of either direction crosses the backend socket, so its timer sees all activity).
  const idleMs = u.service?.options.timeoutMs ?? 0
  if (idleMs > 0) backend.setTimeout(idleMs, () => { error = `websocket idle for ${idleMs} ms`; socket.destroy(); backend.destroy() })
  backend.on('error', (err: Error) => { error ??= `backend ${endpoint.key} failed: ${err.message}` })
  backend.once('close', () => { socket.destroy(); closed() })
  socket.once('close', () => { backend.destroy(); closed() })
  backend.pipe(socket)
  socket.pipe(backend)
}
