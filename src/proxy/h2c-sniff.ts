/**
 * The cleartext frontend's protocol choice: a connection that opens with the HTTP/2 client
 * preface (RFC 9113 §3.4, "prior knowledge", what gRPC clients send to a plain listener) goes
 * to the HTTP/2 server, any other to the HTTP/1.1 server. Reading the first bytes consumes
 * them, and Node's HTTP/2 session reads a net.Socket's native handle directly (bytes put back
 * with `unshift` would be lost), so an h2c connection is handed over as a small duplex that
 * replays the first chunk and then relays the socket.
 */
import { Duplex } from 'node:stream'
import type { Socket } from 'node:net'

const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1')

/** Returns true when `chunk` starts like the HTTP/2 preface (a short first read counts). */
export function looksLikeH2Preface (chunk: Buffer): boolean {
  const n = Math.min(chunk.length, PREFACE.length)
  return n > 0 && chunk.subarray(0, n).equals(PREFACE.subarray(0, n))
}

/**
 * Waits for the first bytes of `socket` and hands it to `h1` (the socket itself, bytes put
 * back) or to `h2` (a replaying duplex that carries the socket's addresses). A socket that
 * sends nothing within `firstByteTimeoutMs` is closed: no protocol's own timeout covers it yet.
 */
export function routeByPreface (socket: Socket, firstByteTimeoutMs: number, h1: (s: Socket) => void, h2: (s: Duplex) => void): void {
  const timer = setTimeout(() => { socket.destroy() }, firstByteTimeoutMs)
  timer.unref()
  socket.once('close', () => { clearTimeout(timer) })
  socket.once('data', (first: Buffer) => {
    clearTimeout(timer)
    socket.pause()
    if (!looksLikeH2Preface(first)) {
      socket.unshift(first)
      h1(socket)
      socket.resume()
      return
    }
    h2(new ReplayingSocket(socket, first))
  })
}

/** A duplex over `socket` whose readable side starts with `first`. */
class ReplayingSocket extends Duplex {
  readonly #socket: Socket
  readonly remoteAddress: string | undefined
  readonly remotePort: number | undefined
  readonly remoteFamily: string | undefined
  readonly localAddress: string | undefined
  readonly localPort: number | undefined

  constructor (socket: Socket, first: Buffer) {
    super({ allowHalfOpen: false })
    this.#socket = socket
    this.remoteAddress = socket.remoteAddress
    this.remotePort = socket.remotePort
    this.remoteFamily = socket.remoteFamily
    this.localAddress = socket.localAddress
    this.localPort = socket.localPort
    this.push(first)
    socket.on('data', (chunk: Buffer) => { if (!this.push(chunk)) socket.pause() })
    socket.once('end', () => { this.push(null) })
    socket.once('error', (err) => { this.destroy(err) })
    socket.once('close', () => { this.destroy() })
  }

  override _read (): void { this.#socket.resume() }

  override _write (chunk: Buffer, _encoding: BufferEncoding, callback: (err?: Error | null) => void): void {
    this.#socket.write(chunk, callback)
  }

  override _final (callback: (err?: Error | null) => void): void { this.#socket.end(callback) }

  override _destroy (err: Error | null, callback: (err?: Error | null) => void): void {
    this.#socket.destroy()
    callback(err)
  }

  setTimeout (ms: number, cb?: () => void): this { this.#socket.setTimeout(ms, cb); return this }
  setNoDelay (noDelay?: boolean): this { this.#socket.setNoDelay(noDelay); return this }
  setKeepAlive (enable?: boolean, delay?: number): this { this.#socket.setKeepAlive(enable, delay); return this }
}
