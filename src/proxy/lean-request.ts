/**
 * A client request on the lean HTTP/1.1 path: the parsed head and, when the request has a
 * body, a readable stream the parser fills from the socket (its buffer is the socket's
 * backpressure: a full buffer pauses the socket). It offers the part of node:http's
 * IncomingMessage the exchange, the router and the access log read, built lazily.
 */
import type { IncomingHttpHeaders } from 'node:http'
import type { Socket } from 'node:net'
import { Readable } from 'node:stream'
import type { MessageHead } from './http1/http1-parser.ts'

/** Headers node:http keeps once when repeated (its `IncomingMessage` rules); cookie joins with "; ", others with ", ". */
const SINGLE: ReadonlySet<string> = new Set([
  'age', 'authorization', 'content-length', 'content-type', 'etag', 'expires', 'from', 'host', 'if-modified-since',
  'if-unmodified-since', 'last-modified', 'location', 'max-forwards', 'proxy-authorization', 'referer',
  'retry-after', 'server', 'user-agent'
])

/** The request as the exchange reads it (node:http's names). */
export class LeanRequest {
  readonly method: string
  readonly url: string
  readonly httpVersionMajor = 1
  readonly httpVersionMinor: number
  readonly httpVersion: string
  readonly rawHeaders: string[]
  readonly socket: Socket
  /** llhttp's keep-alive verdict for this request. */
  readonly keepAlive: boolean
  readonly upgrade: boolean
  /** The client waits for `100 Continue` before its body. */
  readonly expectContinue: boolean
  /** True once the body (if any) has been read completely from the socket. */
  complete: boolean
  /** The head announces a body (a Transfer-Encoding, or a Content-Length above 0). */
  readonly hasBody: boolean
  /** The first `Host` value, as `headers.host` has it (read without building `headers`). */
  readonly host: string | undefined
  /** The first `Content-Type` value, as `headers['content-type']` has it. */
  readonly contentType: string | undefined
  readonly #body: Readable | undefined
  #headers: IncomingHttpHeaders | undefined

  constructor (head: MessageHead, socket: Socket, expectContinue: boolean, onRead: () => void) {
    this.method = head.method
    this.url = head.url
    this.httpVersionMinor = head.versionMinor
    this.httpVersion = head.versionMinor === 1 ? '1.1' : '1.0'
    this.rawHeaders = head.rawHeaders
    this.socket = socket
    this.keepAlive = head.keepAlive
    this.upgrade = head.upgrade
    this.expectContinue = expectContinue
    // The fields every request needs, in one pass; `headers` is built only when asked for.
    let framed = false
    let host: string | undefined
    let contentType: string | undefined
    const raw = head.rawHeaders
    for (let i = 0; i + 1 < raw.length; i += 2) {
      const name = raw[i] ?? ''
      if (name.length === 4) { if (host === undefined && name.toLowerCase() === 'host') host = raw[i + 1] }
      else if (name.length === 12) { if (contentType === undefined && name.toLowerCase() === 'content-type') contentType = raw[i + 1] }
      else if (name.length === 17) { if (name.toLowerCase() === 'transfer-encoding') framed = true }
      else if (name.length === 14 && name.toLowerCase() === 'content-length' && (raw[i + 1] ?? '').trim() !== '0') framed = true
    }
    this.host = host
    this.contentType = contentType
    const hasBody = !head.upgrade && framed
    this.hasBody = hasBody
    this.complete = !hasBody
    this.#body = hasBody ? new Readable({ read: onRead }) : undefined
  }

  /** Node's `headers` object: lowercase names, repeated fields joined (set-cookie as a list). */
  get headers (): IncomingHttpHeaders {
    if (this.#headers !== undefined) return this.#headers
    const out: Record<string, string | string[]> = {}
    const raw = this.rawHeaders
    for (let i = 0; i + 1 < raw.length; i += 2) {
      const name = (raw[i] ?? '').toLowerCase()
      const value = raw[i + 1] ?? ''
      const prev = out[name]
      if (prev === undefined) out[name] = name === 'set-cookie' ? [value] : value
      else if (Array.isArray(prev)) prev.push(value)
      else if (!SINGLE.has(name)) out[name] = `${prev}${name === 'cookie' ? '; ' : ', '}${value}`
    }
    this.#headers = out as IncomingHttpHeaders
    return this.#headers
  }

  /** Hands a body chunk to whoever reads the body; returns false when the socket should pause. */
  pushBody (chunk: Buffer): boolean {
    return this.#body?.push(chunk) ?? true
  }

  /** The body ended. */
  endBody (): void {
    this.complete = true
    this.#body?.push(null)
  }

  /** The connection died before the body ended. */
  abortBody (): void {
    if (!this.complete) this.#body?.destroy(new Error('client closed the connection'))
  }

  /** Streams the body into `dest` (node:http's `pipe`). */
  pipe<T extends NodeJS.WritableStream> (dest: T): T {
    if (this.#body === undefined) { dest.end(); return dest }
    return this.#body.pipe(dest)
  }

  /** Stops streaming into `dest`. */
  unpipe (dest?: NodeJS.WritableStream): this {
    this.#body?.unpipe(dest)
    return this
  }
}
