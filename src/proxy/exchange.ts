/**
 * One client request relayed to a backend service: endpoint choice, one retry on a different
 * endpoint when the connection or handshake failed before anything was sent, the service
 * timeout, and streaming in both directions with backpressure (undici `dispatch` handler API).
 * Over 250 lines: one request's state machine, whose undici handler callbacks share its fields
 * and whose transitions (attempt, retry, timeout, either side closing) are read together.
 */
import type { Http2ServerRequest, Http2ServerResponse } from 'node:http2'
import { PassThrough } from 'node:stream'
import type { Dispatcher } from 'undici'
import type { Clock, TimerHandle } from '../internal/clock.ts'
import type { BackendService } from './backend-service.ts'
import type { Endpoint } from './endpoint.ts'
import { downstreamRawHeaders, fieldList, fieldValue, hasFields, upstreamRequestHeaders } from './headers.ts'
import { withCustomHeaders } from './client-cert-headers.ts'
import type { ClientVerdict } from '../tls/client-verifier.ts'
import { backendFailure, type Failure } from './failure.ts'
import { mayBeSvidRefusal, svidRefusal } from './ssl-refusal.ts'
import { sendHead, setRelayedFields, writeChunk, type FrontRequest, type FrontResponse } from './frontend.ts'
import { GRPC_STATUS, grpcStatusFor, grpcTrailers, isGrpcContentType, isGrpcRequest } from './grpc-status.ts'
import { LeanRequest } from './lean-request.ts'
import { answerPlainText } from './plain-text.ts'
import { isTrustWithdrawn } from './trust-withdrawal.ts'
import { headerObject } from './transport/header-object.ts'
import { TRANSPORT_CODES } from './transport/transport-errors.ts'
import type { TransportHandler } from './transport/types.ts'

/** Methods RFC 9110 section 9.2.2 calls idempotent (TRACE is refused before it gets here). */
const IDEMPOTENT: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE'])

/** Codes of a connection lost under a request: the backend closed a pooled connection. */
const CONNECTION_LOST: ReadonlySet<string> = new Set([TRANSPORT_CODES.socket, 'ECONNRESET', 'EPIPE'])

/**
 * Thrown from `onRequestStart` for a request whose client went away while it waited in the
 * pool's queue: undici then drops it unsent and keeps the connection, where `abort()` would
 * cut an HTTP/1.1 connection (and its TLS session) the next request could have used.
 */
class NotSent extends Error {
  constructor () { super('the client cancelled the request before it was sent') }
}

/** Returns true when the client already reset or closed the stream or connection `res` answers. */
function clientGone (req: FrontRequest, res: FrontResponse): boolean {
  if (req.httpVersionMajor === 2) {
    const stream = (res as Http2ServerResponse).stream
    return stream.closed || stream.destroyed
  }
  return req.socket.destroyed
}

/** How an exchange ended, for the access log and metrics. */
export interface ExchangeResult {
  /** Status sent to the client; 499 when the client went away first. */
  status: number
  /** The endpoint that served (or last failed) the request. */
  endpoint: Endpoint | undefined
  attempts: number
  /** One-line reason when the proxy, not the backend, produced the outcome. */
  error?: string
  /** False when the response was cut after its status line was sent (timeout, backend reset). */
  completed?: boolean
  /**
   * The SPIFFE ID the serving connection proved, when the path knows it per request (one
   * request per connection); otherwise the endpoint's latest is what the log can say.
   */
  peerSpiffeId?: string
  /** The normalised path the request was routed by and forwarded with. */
  routedPath?: string
  /** `HTTP/1.1` or `HTTP/2.0`: what the serving backend connection spoke. */
  backendProtocol?: string
}

/** What one exchange relays and where. */
export interface ExchangeOptions {
  req: FrontRequest
  res: FrontResponse
  /** The caller's address (for `X-Forwarded-For`). */
  client: string | undefined
  service: BackendService
  /** The frontend's scheme (`X-Forwarded-Proto`). */
  proto: 'http' | 'https'
  clock: Clock
  /** The normalised request target the request was routed by and is forwarded with. */
  path: string
  /** The inbound listener's judgement of the client certificate, for the service's custom request headers. */
  verdict?: ClientVerdict | undefined
}

interface Attempt {
  endpoint: Endpoint
  controller: Dispatcher.DispatchController | undefined
  started: boolean
  ended: boolean
  peerSpiffeId: string | undefined
}

/** Relays `req` to `service` and writes the answer to `res`; resolves when the exchange ends. */
export class Exchange {
  readonly #req: FrontRequest
  readonly #res: FrontResponse
  readonly #grpc: boolean
  readonly #service: BackendService
  readonly #clock: Clock
  /** The forwarded header list, built when the first attempt is dispatched (never for a cancelled request). */
  #headers: string[] | undefined
  readonly #client: string | undefined
  readonly #proto: 'http' | 'https'
  readonly #verdict: ClientVerdict | undefined
  readonly #hasBody: boolean
  #attempts = 0
  /** The request holds a slot of the service's `request` circuit breaker limit until it settles. */
  #admitted = false
  #attempt: Attempt | undefined
  #settled = false
  #resolve: (r: ExchangeResult) => void = () => {}
  #status = 0
  #timer: TimerHandle | undefined

  readonly #path: string

  constructor ({ req, res, client, service, proto, clock, path, verdict }: ExchangeOptions) {
    this.#req = req
    this.#path = path
    this.#res = res
    this.#service = service
    this.#clock = clock
    this.#client = client
    this.#proto = proto
    this.#verdict = verdict
    if (req instanceof LeanRequest) {
      // Read from the head scan: the lean request builds its `headers` object only when asked.
      this.#grpc = isGrpcContentType(req.contentType)
      this.#hasBody = req.hasBody
    } else {
      this.#grpc = isGrpcRequest(req.headers)
      const cl = req.headers['content-length']
      // An HTTP/2 request has a body unless its HEADERS frame ended the stream.
      this.#hasBody = req.httpVersionMajor === 2
        ? !(req as Http2ServerRequest).stream.endAfterHeaders
        : req.headers['transfer-encoding'] !== undefined || (cl !== undefined && cl !== '0')
    }
  }

  /** Runs the exchange; never rejects. */
  run (): Promise<ExchangeResult> {
    const done = new Promise<ExchangeResult>((resolve) => { this.#resolve = resolve })
    if (clientGone(this.#req, this.#res)) {
      // Reset in the same read as its HEADERS (rapid reset): nothing is chosen, nothing sent.
      this.#settle({ status: 499, endpoint: undefined, attempts: 0, error: 'client cancelled the request before it was forwarded' })
      return done
    }
    this.#arm(true)
    this.#res.on('close', () => {
      this.#arm(false)
      if (!this.#res.writableEnded) this.#clientGone()
    })
    const breaker = this.#service.breaker
    const refused = breaker.admit('request')
    if (refused !== undefined) {
      this.#service.circuitBreakerTripped(refused)
      this.#fail({ status: 503, message: `backend service ${this.#service.name} circuit breaker open: ${refused} (${breaker.limit(refused) ?? 0}) reached` })
      return done
    }
    this.#admitted = true
    const first = this.#service.pick()
    if (first === undefined) {
      this.#fail({ status: 503, message: `no healthy endpoint in backend service ${this.#service.name}` })
    } else {
      this.#dispatch(first)
    }
    return done
  }

  #dispatch (endpoint: Endpoint, retry = false): void {
    const attempt: Attempt = { endpoint, controller: undefined, started: false, ended: false, peerSpiffeId: undefined }
    this.#attempt = attempt
    this.#attempts++
    endpoint.inFlight++
    const breaker = this.#service.breaker
    breaker.admit('pending')
    if (retry) breaker.admit('retry')
    let waiting = true
    const connected = (): void => { if (waiting) { waiting = false; breaker.release('pending') } }
    const body = this.#hasBody ? new PassThrough() : null
    const timeoutMs = this.#service.options.timeoutMs
    const end = (): boolean => {
      if (attempt.ended) return false
      attempt.ended = true
      endpoint.inFlight--
      connected()
      if (retry) breaker.release('retry')
      return true
    }
    const responseStart = (controller: Dispatcher.DispatchController, statusCode: number, fields: readonly string[], statusMessage: string): void => {
      if (statusCode < 200) return // 1xx: Node's server sends its own 100-continue
      if (this.#settled) { controller.abort(new Error('exchange already answered')); return }
      // A small 400 page may be the backend refusing our SVID: read it before forwarding.
      if (mayBeSvidRefusal(statusCode, fields)) { held = { statusCode, fields, statusMessage, chunks: [] }; return }
      start(statusCode, fields, statusMessage)
    }
    const handler: TransportHandler = {
      onRequestStart: (controller, context) => {
        connected()
        attempt.controller = controller
        attempt.started = true
        const peer = (context as { peerSpiffeId?: unknown } | undefined)?.peerSpiffeId
        if (typeof peer === 'string') attempt.peerSpiffeId = peer
        if (this.#settled || this.#attempt !== attempt) throw new NotSent()
        // Only now may the client's body be consumed: a failed connect leaves it for the retry.
        // The client sets the upload's pace, so the service timeout pauses until it is sent.
        if (body !== null) { this.#arm(false); this.#req.pipe(body) }
      },
      onRequestSent: () => {
        if (body !== null && !this.#settled && this.#status === 0) this.#arm(true)
      },
      onResponseStart: (controller, statusCode, headers, statusMessage) => {
        responseStart(controller, statusCode, fieldList(headers), statusMessage ?? '')
      },
      onResponseStartRaw: (controller, statusCode, fields, statusMessage) => {
        responseStart(controller, statusCode, fields, statusMessage)
      },
      onResponseData: (controller, chunk) => {
        if (held !== undefined) { held.chunks.push(chunk); return }
        if (this.#res.destroyed) return
        if (!writeChunk(this.#res, chunk) && !controller.paused) {
          controller.pause()
          this.#res.once('drain', () => { controller.resume() })
        }
      },
      onResponseEnd: (_controller, trailers) => {
        if (held !== undefined) {
          const h = held
          held = undefined
          const refused = svidRefusal(endpoint.key, Buffer.concat(h.chunks).toString('latin1'))
          if (refused !== undefined) {
            if (!end() || this.#settled) return
            if (body !== null) { this.#req.unpipe(body); body.destroy() }
            this.#attemptFailed(attempt, refused)
            return
          }
          start(h.statusCode, h.fields, h.statusMessage)
          for (const chunk of h.chunks) writeChunk(this.#res, chunk)
        }
        respondEnd(trailers)
      },
      onResponseError: (_controller, err) => {
        held = undefined
        if (!end()) return
        if (body !== null) { this.#req.unpipe(body); body.destroy() }
        if (err instanceof NotSent) return
        if (this.#settled) {
          // The client already has its answer (timeout, disconnect), but a dead endpoint is dead.
          this.#service.failed(endpoint, backendFailure(endpoint.key, err, attempt.started))
          return
        }
        this.#attemptFailed(attempt, err)
      }
    }
    let held: { statusCode: number, fields: readonly string[], statusMessage: string, chunks: Buffer[] } | undefined
    const start = (statusCode: number, fields: readonly string[], statusMessage: string): void => {
      // timeoutSec bounds the whole response, body included (the cloud's backend service
      // timeout): the timer keeps running until the last byte.
      this.#status = statusCode
      const outcome = statusCode < 500 ? 'success' : statusCode === 502 || statusCode === 503 || statusCode === 504 ? 'gateway' : 'error'
      this.#service.record(endpoint, outcome, `answered ${statusCode}`)
      const res = this.#res
      setRelayedFields(res, downstreamRawHeaders(fields))
      res.statusCode = statusCode
      // HTTP/2 has no reason phrase; Node warns when given one.
      if (statusMessage !== '' && 'statusMessage' in res && this.#req.httpVersionMajor === 1) res.statusMessage = statusMessage
      // A gRPC "trailers-only" answer (status in the head, no message) must stay one HEADERS
      // frame that ends the stream: leave the head for end() to send.
      if (!(this.#grpc && fieldValue(fields, 'grpc-status') !== undefined)) sendHead(res, statusCode)
    }
    const respondEnd = (trailers: Readonly<Record<string, string | readonly string[] | undefined>>): void => {
      if (!end()) return
      if (this.#settled) return
      // gRPC puts its status in trailers; HTTP/1.1 clients get them only on chunked answers.
      if (hasFields(trailers) && !this.#res.destroyed) {
        const out = headerObject(downstreamRawHeaders(fieldList(trailers)))
        if (hasFields(out)) this.#res.addTrailers(out as Record<string, string>)
      }
      this.#res.end()
      this.#settle({ status: this.#status, endpoint, attempts: this.#attempts })
    }
    const options: Dispatcher.DispatchOptions & { servername: string } = {
      method: this.#req.method ?? 'GET',
      path: this.#path,
      headers: this.#headers ??= withCustomHeaders(upstreamRequestHeaders(this.#req.rawHeaders, { clientAddress: this.#client, proto: this.#proto }), this.#service.options.customRequestHeaders, this.#verdict),
      body,
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
      reset: !this.#service.options.connectionPool.keepAlive,
      servername: endpoint.servername
    }
    endpoint.dispatcher.dispatch(options, handler)
  }

  #attemptFailed (attempt: Attempt, err: Error): void {
    const failure = backendFailure(attempt.endpoint.key, err, attempt.started)
    if (this.#res.headersSent) {
      // Mid-body: the status line is gone, so the only honest signal left is a cut connection.
      this.#settle({ status: this.#status, endpoint: attempt.endpoint, attempts: this.#attempts, error: failure.message, completed: false })
      // A gRPC call whose backend lost our trust still ends with a status naming why.
      if (this.#grpc && !this.#res.writableEnded && isTrustWithdrawn(err)) {
        this.#res.addTrailers(grpcTrailers(GRPC_STATUS.UNAVAILABLE, failure.message))
        this.#res.end()
        return
      }
      this.#res.destroy(err)
      return
    }
    this.#service.failed(attempt.endpoint, failure)
    // One retry at most: the endpoint tried so far is the failed attempt's.
    if (this.#attempts < 2 && this.#service.breaker.mayRetry()) {
      const tried: ReadonlySet<Endpoint> = new Set([attempt.endpoint])
      if (failure.retryable) {
        const next = this.#service.pick(tried)
        if (next !== undefined) { this.#dispatch(next, true); return }
      } else if (this.#resendable(attempt, err)) {
        // A pooled connection the backend had already closed (RFC 9110 section 9.2.2: an
        // idempotent request without a body may be sent again); any healthy endpoint will do.
        const next = this.#service.pick(tried) ?? this.#service.pick()
        if (next !== undefined) { this.#dispatch(next, true); return }
      }
    }
    this.#fail(failure, attempt.endpoint)
  }

  /**
   * Returns true when the failed attempt may be sent again: an idempotent method, no request
   * body, a pooled (reused) connection that was reset or closed, and no response byte yet.
   */
  #resendable (attempt: Attempt, err: Error): boolean {
    const code = (err as { code?: unknown }).code
    return attempt.started && this.#status === 0 && !this.#hasBody &&
      this.#service.options.connectionPool.keepAlive &&
      IDEMPOTENT.has(this.#req.method ?? 'GET') &&
      typeof code === 'string' && CONNECTION_LOST.has(code)
  }

  #timeout (): void {
    if (this.#settled) return
    const message = `backend service ${this.#service.name} timed out after ${this.#service.options.timeoutMs} ms`
    const attempt = this.#attempt
    if (this.#res.headersSent) {
      this.#settle({ status: this.#status, endpoint: attempt?.endpoint, attempts: this.#attempts, error: message, completed: false })
      // A gRPC call mid-stream can still end with a status in its trailers.
      if (this.#grpc && !this.#res.writableEnded) {
        this.#res.addTrailers(grpcTrailers(grpcStatusFor(504), message))
        this.#res.end()
      } else {
        this.#res.destroy(new Error(message))
      }
    } else {
      this.#fail({ status: 504, message }, attempt?.endpoint)
    }
    attempt?.controller?.abort(new Error(message))
  }

  #clientGone (): void {
    if (this.#settled) return
    const attempt = this.#attempt
    this.#settle({ status: 499, endpoint: attempt?.endpoint, attempts: this.#attempts, error: 'client closed the connection' })
    attempt?.controller?.abort(new Error('client closed the connection'))
  }

  #fail (failure: Pick<Failure, 'status' | 'message'> & Partial<Failure>, endpoint?: Endpoint): void {
    const res = this.#res
    this.#settle({ status: failure.status, endpoint, attempts: this.#attempts, error: failure.message })
    if (res.headersSent || res.destroyed) return
    if (this.#grpc) {
      // A "trailers-only" gRPC answer: HTTP 200 whose one HEADERS frame carries the status
      // and our reason, so gRPC clients report the code rather than an HTTP error.
      res.statusCode = 200
      res.setHeader('content-type', 'application/grpc')
      for (const [name, value] of Object.entries(grpcTrailers(grpcStatusFor(failure.status), failure.message))) res.setHeader(name, value)
      res.end()
      return
    }
    answerPlainText(res, failure.status, failure.message)
  }

  /** (Re)starts the service timeout, or stops it. */
  #arm (on: boolean): void {
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer)
    this.#timer = undefined
    if (!on) return
    this.#timer = this.#clock.setTimeout(() => { this.#timeout() }, this.#service.options.timeoutMs)
    this.#timer.unref()
  }

  #settle (result: ExchangeResult): void {
    if (this.#settled) return
    this.#settled = true
    this.#arm(false)
    if (this.#admitted) this.#service.breaker.release('request')
    const attempt = this.#attempt
    // `result` is each caller's own literal: completed here rather than copied.
    if (attempt !== undefined && attempt.endpoint === result.endpoint) {
      if (attempt.peerSpiffeId !== undefined) result.peerSpiffeId = attempt.peerSpiffeId
      if (attempt.started && this.#status !== 0) result.backendProtocol = attempt.endpoint.protocol === 'HTTP2' ? 'HTTP/2.0' : 'HTTP/1.1'
    }
    result.routedPath = this.#path
    this.#resolve(result)
  }
}

/** Returns the request target in origin form (`/p?q`), also for an absolute-form target. */
export function originForm (url: string | undefined): string {
  if (url === undefined || url === '') return '/'
  if (!/^https?:\/\//i.test(url)) return url
  try {
    const u = new URL(url)
    return `${u.pathname}${u.search}`
  } catch {
    return url
  }
}
