/**
 * One backend HTTP/1.1 connection carrying one request at a time: the head written as one
 * buffer, the body streamed with the socket's backpressure (chunked when the client sent no
 * Content-Length), the response parsed strictly by llhttp (Content-Length, chunked,
 * close-delimited, 1xx, no body for HEAD/204/304). The connection may be reused only when
 * nothing about the exchange is in doubt: both sides keep-alive, the request body fully sent,
 * the response completely framed, and no byte beyond it.
 */
import type { Socket } from 'node:net'
import type { Dispatcher } from 'undici'
import { Http1Parser, type MessageHead, type ParseError } from '../http1/http1-parser.ts'
import { RearmableTimer } from '../../internal/rearmable-timer.ts'
import { headerObject } from './header-object.ts'
import { RequestController } from './request-controller.ts'
import { transportError } from './transport-errors.ts'
import type { TransportHandler } from './types.ts'

/** Response heads are bounded like node:http's client (its default maxHeaderSize). */
const MAX_RESPONSE_HEAD = 16384

function framingError (e: ParseError): Error {
  return Object.assign(new Error(`backend response refused by the http/1.1 parser: ${e.reason}`), { code: e.code })
}

/** A verified socket to one endpoint and the request it carries, if any. */
export class Http1Connection {
  readonly socket: Socket
  readonly peerSpiffeId: string | undefined
  /** Requests sent on this connection so far. */
  requests = 0
  #parser: Http1Parser
  #handler: TransportHandler | undefined
  #controller: RequestController | undefined
  #method = ''
  #final = false
  #keepAlive = false
  #bodySent = false
  #headersTimeout = 0
  #bodyTimeout = 0
  /** The socket's idle timeout now set: changed only when a request needs another (each change makes a new timer). */
  #socketTimeout = 0
  /** Closes the connection once it has been idle for the pool's keep-alive timeout. */
  #idleTimer: RearmableTimer | undefined
  #reusable = false
  #error: Error | undefined
  readonly #done: (conn: Http1Connection, reusable: boolean) => void

  /** `done` is told when the request ended, and whether the connection may carry another. */
  constructor (socket: Socket, peerSpiffeId: string | undefined, done: (conn: Http1Connection, reusable: boolean) => void) {
    this.socket = socket
    this.peerSpiffeId = peerSpiffeId
    this.#done = done
    this.#parser = new Http1Parser('response', MAX_RESPONSE_HEAD, {
      head: (h) => this.#onHead(h),
      body: (chunk) => { this.#onBody(chunk) },
      complete: (trailers) => { this.#onComplete(trailers) }
    })
    socket.on('data', (chunk: Buffer) => {
      if (this.#handler === undefined) { socket.destroy(); return } // bytes nobody asked for
      const r = this.#parser.execute(chunk)
      if (typeof r !== 'number') this.fail(framingError(r))
    })
    socket.on('end', () => {
      // Destroyed by a listener that knows better (the connector's refusal explanation).
      if (socket.destroyed) return
      // An idle connection the backend closed: nobody to tell, and an Error's stack costs.
      if (this.#handler === undefined) { socket.destroy(); return }
      const r = this.#parser.finish() // completes a close-delimited body
      this.fail(r === undefined ? transportError('socket', 'the backend closed the connection') : framingError(r))
    })
    // An error always ends in 'close'; the last one is the most precise (a refused SVID
    // replaces the bare TLS alert), so the request fails there.
    socket.on('error', (err: Error) => { this.#error = err })
    socket.on('close', () => {
      this.#idleTimer?.stop()
      if (this.#handler !== undefined) this.fail(this.#error ?? transportError('socket', 'the backend closed the connection'))
      this.#parser.free()
    })
    socket.on('timeout', () => {
      if (this.#handler === undefined) return // idle: the keep-alive timer decides
      const headers = !this.#final
      const ms = headers ? this.#headersTimeout : this.#bodyTimeout
      this.fail(headers
        ? transportError('headersTimeout', `no response headers from the backend within ${ms} ms`)
        : transportError('bodyTimeout', `no response body data from the backend within ${ms} ms`))
    })
  }

  /** True while a request runs on this connection. */
  get busy (): boolean { return this.#handler !== undefined }

  /** The connection waits in the pool: it closes after `ms` without a request. */
  idle (ms: number): void {
    (this.#idleTimer ??= new RearmableTimer(ms, () => { this.socket.destroy() })).arm()
  }

  #setSocketTimeout (ms: number): void {
    if (ms === this.#socketTimeout) return
    this.#socketTimeout = ms
    this.socket.setTimeout(ms)
  }

  /** Sends one request; `reused` says whether the connection carried one before. */
  send (options: Dispatcher.DispatchOptions, handler: TransportHandler, keepAlive: boolean, authority: string): void {
    const reused = this.requests > 0
    this.requests++
    this.#idleTimer?.disarm()
    this.#handler = handler
    this.#method = options.method
    this.#final = false
    this.#keepAlive = false
    this.#reusable = keepAlive && options.reset !== true
    const controller = new RequestController(this)
    this.#controller = controller
    const context = this.peerSpiffeId === undefined ? { reused } : { peerSpiffeId: this.peerSpiffeId, reused }
    try {
      handler.onRequestStart?.(controller, context)
    } catch (err) {
      // As undici does: a handler that refuses the request (its client left while it waited)
      // has it dropped unsent, and the connection, untouched, stays usable.
      this.#handler = undefined
      this.#controller = undefined
      controller.ended = true
      handler.onResponseError?.(controller, err as Error)
      this.#done(this, this.#reusable)
      return
    }
    if (controller.aborted) return
    const headers = (options.headers ?? []) as string[]
    let head = `${options.method} ${options.path} HTTP/1.1\r\n`
    let length = false
    let host = false
    for (let i = 0; i + 1 < headers.length; i += 2) {
      const name = headers[i] ?? ''
      if (name.length === 14 && name.toLowerCase() === 'content-length') length = true
      else if (name.length === 4 && name.toLowerCase() === 'host') host = true
      head += `${name}: ${headers[i + 1] ?? ''}\r\n`
    }
    // HTTP/1.1 requires a Host; an HTTP/1.0 client may not have sent one.
    if (!host) head += `host: ${authority}\r\n`
    const body = options.body as NodeJS.ReadableStream | null | undefined
    const streamed = body !== null && body !== undefined && typeof body === 'object' && 'pipe' in body
    const chunked = streamed && !length
    if (chunked) head += 'transfer-encoding: chunked\r\n'
    if (!this.#reusable) head += 'connection: close\r\n'
    head += '\r\n'
    this.#headersTimeout = options.headersTimeout ?? 0
    this.#bodyTimeout = options.bodyTimeout ?? 0
    this.#setSocketTimeout(this.#headersTimeout)
    this.socket.write(head, 'latin1')
    if (!streamed) { this.#bodySent = true; handler.onRequestSent?.(); return }
    this.#bodySent = false
    this.#stream(body, chunked, controller)
  }

  #stream (body: NodeJS.ReadableStream, chunked: boolean, controller: RequestController): void {
    const socket = this.socket
    const onData = (chunk: Buffer): void => {
      if (controller.aborted || socket.destroyed) return
      let ok: boolean
      if (chunked) {
        socket.cork()
        socket.write(`${chunk.length.toString(16)}\r\n`, 'latin1')
        socket.write(chunk)
        ok = socket.write('\r\n', 'latin1')
        socket.uncork()
      } else {
        ok = socket.write(chunk)
      }
      if (!ok) { body.pause(); socket.once('drain', () => { body.resume() }) }
    }
    body.on('data', onData)
    body.once('end', () => {
      if (controller.aborted || socket.destroyed) return
      if (chunked) socket.write('0\r\n\r\n', 'latin1')
      this.#bodySent = true
      this.#handler?.onRequestSent?.()
    })
    body.once('error', (err: Error) => { this.fail(err) })
  }

  #onHead (h: MessageHead): boolean {
    const handler = this.#handler
    const controller = this.#controller
    if (handler === undefined || controller === undefined || this.#final) { this.socket.destroy(); return true }
    if (h.statusCode < 100 || h.statusCode > 999) { this.fail(framingError({ code: 'HPE_INVALID_STATUS', reason: `status ${h.statusCode} is not a three-digit status from 100`, bytesParsed: 0 })); return true }
    if (h.statusCode === 101) { this.fail(framingError({ code: 'HPE_UNEXPECTED_UPGRADE', reason: 'the backend switched protocols on a plain request', bytesParsed: 0 })); return true }
    if (h.statusCode < 200) return false // 100 Continue and friends: the final answer follows
    this.#final = true
    this.#keepAlive = h.keepAlive
    this.#setSocketTimeout(this.#bodyTimeout)
    if (handler.onResponseStartRaw !== undefined) handler.onResponseStartRaw(controller, h.statusCode, h.rawHeaders, h.statusMessage)
    else handler.onResponseStart?.(controller, h.statusCode, headerObject(h.rawHeaders), h.statusMessage)
    return this.#method === 'HEAD'
  }

  #onBody (chunk: Buffer): void {
    const controller = this.#controller
    if (controller === undefined || controller.aborted) return
    this.#handler?.onResponseData?.(controller, chunk)
  }

  #onComplete (trailers: readonly string[]): void {
    if (!this.#final) return // the end of a 1xx
    const handler = this.#handler
    const controller = this.#controller
    if (handler === undefined || controller === undefined) return
    this.#handler = undefined
    this.#controller = undefined
    const reusable = this.#reusable && this.#keepAlive && this.#bodySent && !controller.aborted
    controller.ended = true
    // A reused connection gets the pool's keep-alive timeout next (http1-transport.ts). One
    // its handler paused (the client was slow, or gone, when the last chunk came) reads again:
    // paused in the pool, the next request's answer would never be read.
    if (!reusable) this.socket.destroy()
    else if (controller.paused) this.socket.resume()
    handler.onResponseEnd?.(controller, headerObject(trailers))
    this.#done(this, reusable)
  }

  /** Ends the running request with `err` (if any) and closes the connection: it is in doubt. */
  fail (err: Error): void {
    const handler = this.#handler
    const controller = this.#controller
    this.socket.destroy()
    if (handler === undefined || controller === undefined) return
    this.#handler = undefined
    this.#controller = undefined
    controller.ended = true
    handler.onResponseError?.(controller, err)
    this.#done(this, false)
  }
}
