/**
 * The answer to one {@link LeanRequest}: the part of node:http's ServerResponse the exchange
 * uses (headers, head, body chunks with backpressure, trailers, end, destroy, 'close' and
 * 'drain'), written straight to the client socket. The head is held back and leaves with the
 * first body chunk or the end, so a small answer is one write. Framing: the backend's
 * Content-Length when it sent one, none for HEAD/204/304/1xx, else chunked for HTTP/1.1
 * clients and close-delimited for HTTP/1.0 ones.
 */
import { EventEmitter } from 'node:events'
import { http } from '../internal/node-http.ts'
import type { Socket } from 'node:net'
import type { LeanRequest } from './lean-request.ts'
import { SINGLE_WRITE_MAX_BYTES } from '../defaults.ts'

const { STATUS_CODES } = http

/** No forwarded fields (an answer of the proxy's own). */
const NO_FIELDS: readonly string[] = Object.freeze([])

/** See the module comment. `done(keepAlive)` is told once the response has been written. */
export class LeanResponse extends EventEmitter {
  statusCode = 200
  statusMessage = ''
  headersSent = false
  writableEnded = false
  destroyed = false
  readonly #req: LeanRequest
  readonly #socket: Socket
  readonly #done: (res: LeanResponse, keepAlive: boolean) => void
  readonly #headers = new Map<string, [string, string | readonly string[]]>()
  /** The backend's fields as received (hop-by-hop ones already dropped), written after `#headers`. */
  #forwarded: readonly string[] = NO_FIELDS
  #pendingHead: string | undefined
  #chunked = false
  #noBody = false
  #close = false
  #trailers: Record<string, string> | undefined

  constructor (req: LeanRequest, socket: Socket, done: (res: LeanResponse, keepAlive: boolean) => void) {
    super()
    this.#req = req
    this.#socket = socket
    this.#done = done
  }

  setHeader (name: string, value: string | number | readonly string[]): this {
    this.#headers.set(name.toLowerCase(), [name, typeof value === 'number' ? String(value) : value])
    return this
  }

  getHeader (name: string): string | readonly string[] | undefined {
    return this.#headers.get(name.toLowerCase())?.[1]
  }

  /**
   * Takes the fields of a relayed answer as a flat `[name, value, …]` list, written as they
   * are: no object or map is built per field. A field also set with `setHeader` is written
   * once, with the `setHeader` value.
   */
  forward (fields: readonly string[]): this {
    this.#forwarded = fields
    return this
  }

  /** Fixes status and headers; the head is written with the first chunk or the end. */
  writeHead (status: number): this {
    if (this.headersSent) return this
    this.statusCode = status
    this.headersSent = true
    const req = this.#req
    this.#noBody = req.method === 'HEAD' || status === 204 || status === 304 || status < 200
    // A request body not read to its end leaves the connection's next bytes unknown.
    const connection = this.#headers.get('connection')?.[1]
    this.#close = !req.keepAlive || !req.complete || connection === 'close'
    this.#headers.delete('connection')
    let length = this.#headers.has('content-length')
    let head = `HTTP/1.1 ${status} ${this.statusMessage === '' ? STATUS_CODES[status] ?? '' : this.statusMessage}\r\n`
    for (const [name, value] of this.#headers.values()) {
      if (typeof value === 'string') head += `${name}: ${value}\r\n`
      else for (const v of value) head += `${name}: ${v}\r\n`
    }
    const set = this.#headers.size > 0 ? this.#headers : undefined
    const fields = this.#forwarded
    for (let i = 0; i + 1 < fields.length; i += 2) {
      const name = fields[i] ?? ''
      if (set !== undefined && set.has(name.toLowerCase())) continue
      if (!length && name.length === 14 && name.toLowerCase() === 'content-length') length = true
      head += `${name}: ${fields[i + 1] ?? ''}\r\n`
    }
    this.#chunked = !this.#noBody && !length && req.httpVersionMinor === 1
    if (!this.#noBody && !length && req.httpVersionMinor === 0) this.#close = true
    if (this.#chunked) head += 'transfer-encoding: chunked\r\n'
    if (this.#close) head += 'connection: close\r\n'
    else if (req.httpVersionMinor === 0) head += 'connection: keep-alive\r\n'
    this.#pendingHead = `${head}\r\n`
    return this
  }

  /** Writes a body chunk; returns false when the caller should wait for 'drain'. */
  write (chunk: Buffer | string): boolean {
    if (this.writableEnded || this.destroyed) return false
    if (!this.headersSent) this.writeHead(this.statusCode)
    const socket = this.#socket
    const data = typeof chunk === 'string' ? Buffer.from(chunk) : chunk
    if (this.#noBody || data.length === 0) { this.#flushHead(); return true }
    const head = this.#pendingHead
    if (head !== undefined && !this.#chunked && data.length <= SINGLE_WRITE_MAX_BYTES) {
      // Head and a small first chunk leave as one buffer: one write, without cork's writev.
      this.#pendingHead = undefined
      const out = Buffer.allocUnsafe(head.length + data.length)
      out.write(head, 0, 'latin1')
      data.copy(out, head.length)
      return this.#drainAfter(socket.write(out))
    }
    socket.cork()
    this.#flushHead()
    if (this.#chunked) socket.write(`${data.length.toString(16)}\r\n`, 'latin1')
    let ok = socket.write(data)
    if (this.#chunked) ok = socket.write('\r\n', 'latin1')
    socket.uncork()
    return this.#drainAfter(ok)
  }

  /** Returns `ok`; when false (the socket is full), 'drain' is emitted once the socket drains. */
  #drainAfter (ok: boolean): boolean {
    if (!ok) this.#socket.once('drain', () => { this.emit('drain') })
    return ok
  }

  /** Trailer fields sent after a chunked body (dropped otherwise, as node:http does). */
  addTrailers (trailers: Record<string, string>): void {
    this.#trailers = { ...this.#trailers, ...trailers }
  }

  /** Ends the response, optionally with a last chunk; the connection moves on to the next request. */
  end (chunk?: Buffer | string): this {
    if (this.writableEnded || this.destroyed) return this
    if (!this.headersSent) {
      if (chunk !== undefined && !this.#headers.has('content-length')) this.setHeader('content-length', Buffer.byteLength(chunk))
      this.writeHead(this.statusCode)
    }
    const socket = this.#socket
    socket.cork()
    if (chunk !== undefined) this.write(chunk)
    this.#flushHead()
    if (this.#chunked) {
      let last = '0\r\n'
      for (const [name, value] of Object.entries(this.#trailers ?? {})) last += `${name}: ${value}\r\n`
      socket.write(`${last}\r\n`, 'latin1')
    }
    socket.uncork()
    this.writableEnded = true
    this.#done(this, !this.#close)
    this.emit('close')
    return this
  }

  /** Cuts the response and its connection (the client sees the answer is incomplete). */
  destroy (_err?: Error): this {
    if (this.destroyed) return this
    this.destroyed = true
    this.#socket.destroy()
    if (!this.writableEnded) this.emit('close')
    return this
  }

  /** The client connection closed under the response. */
  clientClosed (): void {
    if (this.writableEnded || this.destroyed) return
    this.destroyed = true
    this.emit('close')
  }

  #flushHead (): void {
    if (this.#pendingHead === undefined) return
    this.#socket.write(this.#pendingHead, 'latin1')
    this.#pendingHead = undefined
  }
}
