/**
 * HTTP/1.1 message parsing for the lean data path: Node's own llhttp binding (the `HTTPParser`
 * that node:http drives) without node:http's object model, fed straight from a socket, for
 * client requests and backend responses alike. Strict mode only (no lenient flag), so every
 * head is judged as node:http judges it with `insecureHTTPParser` off: CL+TE, duplicate
 * Content-Length, obs-fold, bare LF and bad chunk sizes are refused by the same C code.
 * `http1-parser.test.ts` pins the binding's shape; test/http1-differential.test.ts compares
 * the decisions with node:http's server.
 */
import { createRequire } from 'node:module'
import { HTTP1_PARSER_POOL_SIZE } from '../../defaults.ts'

const require = createRequire(import.meta.url)

/** The parts of the binding this module uses (it has no published types). */
interface Binding {
  initialize (type: number, resource: object, maxHeaderSize: number, lenientFlags: number): void
  execute (data: Buffer): number | BindingError
  finish (): BindingError | undefined
  free (): void
  close (): void
  [callback: number]: unknown
}
interface BindingClass {
  new (): Binding
  readonly REQUEST: number
  readonly RESPONSE: number
  readonly kOnHeaders: number
  readonly kOnHeadersComplete: number
  readonly kOnBody: number
  readonly kOnMessageComplete: number
  readonly kLenientNone: number
}
interface BindingError extends Error { code?: string, reason?: string, bytesParsed?: number }

const common = require('node:_http_common') as { HTTPParser: BindingClass, methods: readonly string[] }

/** Node's llhttp binding class; exported for the test that pins its shape. */
export const HTTPParser: BindingClass = common.HTTPParser
/** llhttp's method names, indexed by the method number its head callback reports. */
export const HTTP_METHODS: readonly string[] = common.methods

const NO_TRAILERS: readonly string[] = Object.freeze([])

/** Freed native parsers, initialized again for the next connection (see {@link HTTP1_PARSER_POOL_SIZE}). */
const parked: Binding[] = []

/** One parsed message head (request or response). */
export interface MessageHead {
  versionMajor: number
  versionMinor: number
  /** `[name, value, …]` as received (Node's `rawHeaders`). */
  rawHeaders: string[]
  /** Request method; empty for a response. */
  method: string
  /** Request target as received; empty for a response. */
  url: string
  /** Response status; 0 for a request. */
  statusCode: number
  statusMessage: string
  /** An `Upgrade` (or CONNECT): the bytes after the head are no longer HTTP. */
  upgrade: boolean
  /** llhttp's keep-alive verdict from the version and `Connection`. */
  keepAlive: boolean
}

/** What the parser reports while it runs. */
export interface ParserEvents {
  /** A complete head; return true when the message has no body whatever its headers say (a response to HEAD). */
  head (head: MessageHead): boolean
  /** A piece of the (de-chunked) body; the buffer is only valid during the call unless kept. */
  body (chunk: Buffer): void
  /** The message ended (its body, if any, was framed completely); `trailers` as `[name, value, …]`. */
  complete (trailers: readonly string[]): void
}

/** Why input was refused: llhttp's error code (`HPE_…`), reason, and where. */
export interface ParseError {
  code: string
  reason: string
  bytesParsed: number
}

/**
 * One connection's parser. `execute` returns how many bytes it consumed (fewer than given
 * after an upgrade head: the rest belongs to the tunnel) or the {@link ParseError}; after an
 * error the parser is unusable.
 */
export class Http1Parser {
  readonly #binding: Binding
  #freed = false
  #headers: string[] = []
  #url = ''

  constructor (kind: 'request' | 'response', maxHeaderSize: number, events: ParserEvents) {
    const b = parked.pop() ?? new HTTPParser()
    this.#binding = b
    b.initialize(kind === 'request' ? HTTPParser.REQUEST : HTTPParser.RESPONSE, {}, maxHeaderSize, HTTPParser.kLenientNone)
    // llhttp hands long header lists over in batches of 32 before the head completes.
    b[HTTPParser.kOnHeaders] = (headers: string[], url: string) => {
      for (const h of headers) this.#headers.push(h)
      this.#url += url
    }
    b[HTTPParser.kOnHeadersComplete] = (versionMajor: number, versionMinor: number, headers: string[] | undefined,
      method: number | undefined, url: string | undefined, statusCode: number | undefined, statusMessage: string | undefined,
      upgrade: boolean, keepAlive: boolean): number => {
      let rawHeaders = headers ?? []
      if (this.#headers.length > 0) { rawHeaders = this.#headers.concat(rawHeaders); this.#headers = [] }
      const target = url === undefined || url === '' ? this.#url : this.#url + url
      this.#url = ''
      const noBody = events.head({
        versionMajor,
        versionMinor,
        rawHeaders,
        method: method === undefined ? '' : HTTP_METHODS[method] ?? '',
        url: target,
        statusCode: statusCode ?? 0,
        statusMessage: statusMessage ?? '',
        upgrade,
        keepAlive
      })
      // 1 = "no body" in llhttp's on_headers_complete protocol.
      return noBody ? 1 : 0
    }
    b[HTTPParser.kOnBody] = (chunk: Buffer) => { events.body(chunk) }
    // Trailer fields of a chunked body arrive through kOnHeaders after the body.
    b[HTTPParser.kOnMessageComplete] = () => {
      if (this.#headers.length === 0) { events.complete(NO_TRAILERS); return }
      const trailers = this.#headers
      this.#headers = []
      this.#url = ''
      events.complete(trailers)
    }
  }

  /** Parses `data`; returns the bytes consumed, or why the input is refused. */
  execute (data: Buffer): number | ParseError {
    const r = this.#binding.execute(data)
    return typeof r === 'number' ? r : toParseError(r)
  }

  /** Tells the parser the input ended: completes a close-delimited body or says what is missing. */
  finish (): ParseError | undefined {
    const r = this.#binding.finish()
    return r === undefined || r === null || typeof r !== 'object' ? undefined : toParseError(r)
  }

  /**
   * Releases the native parser, as node:http's freeParser does: `free()` reports the end to
   * async hooks, the callbacks (and through them the connection) are dropped, and once the
   * stack has unwound (a parser callback may still be running) the parser is parked for the
   * next connection, or, the pool being full, deleted with `close()`.
   */
  free (): void {
    if (this.#freed) return
    this.#freed = true
    const binding = this.#binding
    binding.free()
    binding[HTTPParser.kOnHeaders] = null
    binding[HTTPParser.kOnHeadersComplete] = null
    binding[HTTPParser.kOnBody] = null
    binding[HTTPParser.kOnMessageComplete] = null
    setImmediate(() => {
      if (parked.length < HTTP1_PARSER_POOL_SIZE) parked.push(binding)
      else binding.close()
    })
  }
}

function toParseError (err: BindingError): ParseError {
  return { code: err.code ?? 'HPE_UNKNOWN', reason: err.reason ?? err.message, bytesParsed: err.bytesParsed ?? 0 }
}

/** Returns the value of header `name` (lowercase) in `raw`, the first when repeated. */
export function headerValue (raw: readonly string[], name: string): string | undefined {
  for (let i = 0; i + 1 < raw.length; i += 2) {
    if (raw[i]?.length === name.length && raw[i]?.toLowerCase() === name) return raw[i + 1]
  }
  return undefined
}

/** Returns how many times header `name` (lowercase) appears in `raw`. */
export function headerCount (raw: readonly string[], name: string): number {
  let n = 0
  for (let i = 0; i + 1 < raw.length; i += 2) {
    if (raw[i]?.length === name.length && raw[i]?.toLowerCase() === name) n++
  }
  return n
}
