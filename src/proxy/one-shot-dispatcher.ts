/**
 * The lean path for backend services with `connectionPool.maxRequestsPerConnection: 1`: one
 * fresh connection per request, so nothing is pooled and undici's pool machinery (connection
 * queue, wasm parser, keep-alive bookkeeping) is pure overhead. The request runs on Node's own
 * HTTP/1.1 client (native llhttp) over a socket from the same backend connector, so the SPIFFE
 * verification is exactly the pooled path's. It speaks undici's dispatch-handler protocol, so
 * {@link Exchange} drives both paths with the same code (retries, timeouts, streaming).
 */
import { request as httpRequest, type ClientRequest, type IncomingMessage } from 'node:http'
import type { Socket } from 'node:net'
import { errors, type Dispatcher } from 'undici'
import type { ConnectFn } from './types.ts'
import { BACKEND_BODY_TIMEOUT_MS, BACKEND_HEADERS_TIMEOUT_MS } from '../defaults.ts'

/** The subset of undici's `Dispatcher` the proxy's exchanges use. */
export interface RequestDispatcher {
  dispatch (options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean
  /** Stops accepting requests; resolves once the running ones finished. */
  close (): Promise<void>
  /** Aborts the running requests. */
  destroy (): Promise<void>
}

/**
 * The failures of this path are undici's own error classes (and so carry undici's codes), the
 * ones the pooled path raises for the same event, so both paths classify failures the same.
 */
function timeoutError (what: 'headers' | 'body', ms: number): errors.UndiciError {
  return what === 'headers'
    ? new errors.HeadersTimeoutError(`no response headers from the backend within ${ms} ms`)
    : new errors.BodyTimeoutError(`no response body data from the backend within ${ms} ms`)
}

/** Pause, resume and abort of one request, as undici's handlers expect them. */
class OneShotController implements Dispatcher.DispatchController {
  #aborted = false
  #paused = false
  #reason: Error | null = null
  readonly #onAbort: (reason: Error) => void
  readonly #response: () => IncomingMessage | undefined

  constructor (onAbort: (reason: Error) => void, response: () => IncomingMessage | undefined) {
    this.#onAbort = onAbort
    this.#response = response
  }

  get aborted (): boolean { return this.#aborted }
  get paused (): boolean { return this.#paused }
  get reason (): Error | null { return this.#reason }

  abort (reason: Error): void {
    if (this.#aborted) return
    this.#aborted = true
    this.#reason = reason
    this.#onAbort(reason)
  }

  pause (): void { this.#paused = true; this.#response()?.pause() }
  resume (): void { this.#paused = false; this.#response()?.resume() }
}

/** See the module comment. `connect` is the endpoint's connector; `origin` its address. */
export class OneShotDispatcher implements RequestDispatcher {
  readonly #connect: ConnectFn
  readonly #origin: { hostname: string, port: number, protocol: 'http:' | 'https:' }
  readonly #identify: ((socket: Socket) => string | undefined) | undefined
  readonly #running = new Set<(reason: Error) => void>()
  #closed = false
  #drained: (() => void) | undefined

  /**
   * `identify` returns the SPIFFE ID the connection's peer proved; it is handed to the handler
   * as `onRequestStart`'s context `{ peerSpiffeId }`. Each request has its own connection, so
   * the access log can name the exact identity that served it.
   */
  constructor (origin: { hostname: string, port: number, protocol: 'http:' | 'https:' }, connect: ConnectFn,
    identify?: (socket: Socket) => string | undefined) {
    this.#origin = origin
    this.#connect = connect
    this.#identify = identify
  }

  dispatch (options: Dispatcher.DispatchOptions & { servername?: string }, handler: Dispatcher.DispatchHandler): boolean {
    let req: ClientRequest | undefined
    let res: IncomingMessage | undefined
    let settled = false
    const controller = new OneShotController((reason) => { req?.destroy(reason); finish(reason) }, () => res)
    const finish = (err: Error | undefined): void => {
      if (settled) return
      settled = true
      this.#running.delete(abort)
      if (this.#running.size === 0) this.#drained?.()
      if (err === undefined) handler.onResponseEnd?.(controller, res?.trailers ?? {})
      else handler.onResponseError?.(controller, err)
    }
    const abort = (reason: Error): void => { controller.abort(reason) }
    if (this.#closed) {
      queueMicrotask(() => { finish(new errors.ClientClosedError('the backend service is closing')) })
      return false
    }
    this.#running.add(abort)

    const { hostname, port, protocol } = this.#origin
    const servername = options.servername
    this.#connect({ hostname, port: String(port), protocol, ...(servername === undefined ? {} : { servername }) }, (err, socket) => {
      if (err !== null || socket === null) { finish(err ?? new Error('backend connector returned no socket')); return }
      if (settled) { socket.destroy(); return }
      const peerSpiffeId = this.#identify?.(socket)
      handler.onRequestStart?.(controller, peerSpiffeId === undefined ? {} : { peerSpiffeId })
      if (controller.aborted) { socket.destroy(); return }
      req = this.#send(options, socket, controller, handler, finish, (r) => { res = r })
    })
    return true
  }

  #send (options: Dispatcher.DispatchOptions, socket: Socket, controller: Dispatcher.DispatchController,
    handler: Dispatcher.DispatchHandler, finish: (err: Error | undefined) => void, onResponse: (res: IncomingMessage) => void): ClientRequest {
    const headers = Array.isArray(options.headers) ? [...(options.headers as string[])] : []
    headers.push('connection', 'close') // one request per connection: say so to the backend
    const headersTimeout = options.headersTimeout ?? BACKEND_HEADERS_TIMEOUT_MS
    const bodyTimeout = options.bodyTimeout ?? BACKEND_BODY_TIMEOUT_MS
    const req = httpRequest({
      createConnection: () => socket,
      method: options.method,
      path: options.path,
      headers,
      setHost: false
    })
    socket.setTimeout(headersTimeout, () => { controller.abort(timeoutError('headers', headersTimeout)) })
    // A socket the connector destroyed on purpose (trust withdrawn) carries the reason: prefer it
    // to the generic reset Node reports.
    req.on('error', (err) => { finish(socket.errored ?? err) })
    req.on('response', (res) => {
      onResponse(res)
      socket.setTimeout(bodyTimeout, () => { controller.abort(timeoutError('body', bodyTimeout)) })
      handler.onResponseStart?.(controller, res.statusCode ?? 0, res.headers, res.statusMessage ?? '')
      if (controller.aborted) return
      if (controller.paused) res.pause()
      res.on('data', (chunk: Buffer) => { handler.onResponseData?.(controller, chunk) })
      res.on('end', () => { socket.setTimeout(0); finish(undefined); socket.destroy() })
      res.on('error', (err) => { finish(socket.errored ?? err) })
      res.on('aborted', () => { finish(socket.errored ?? new errors.SocketError('the backend closed the connection mid-response')) })
    })
    const body = options.body
    if (body !== null && body !== undefined && typeof body === 'object' && 'pipe' in body) {
      const stream = body as NodeJS.ReadableStream
      stream.once('end', () => { handler.onRequestSent?.() })
      stream.pipe(req)
    } else {
      req.end(() => { handler.onRequestSent?.() })
    }
    return req
  }

  async close (): Promise<void> {
    this.#closed = true
    if (this.#running.size === 0) return
    await new Promise<void>((resolve) => { this.#drained = resolve })
  }

  async destroy (): Promise<void> {
    this.#closed = true
    const error = new errors.ClientDestroyedError('the backend service was destroyed')
    for (const abort of [...this.#running]) abort(error)
  }
}
