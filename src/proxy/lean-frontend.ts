/**
 * The cleartext HTTP/1.1 frontend without node:http: each connection's bytes go straight into
 * the strict llhttp parser (http1-parser.ts), every head passes request-head.ts's rules, and
 * requests are handed one at a time (pipelined ones wait, with the socket paused) to the
 * proxy's handler as {@link LeanRequest}/{@link LeanResponse}. Upgrades go to the upgrade
 * handler with the bytes after the head. `frontend.limits` apply as node:http applies them:
 * headersTimeout from a request's first byte to its last header line (408), requestTimeout
 * until the body is read (408 when nothing was answered yet, else the connection is cut),
 * keepAliveTimeout between requests, maxHeaderSize in the parser. A head the parser or the
 * rules refuse gets a status line (400, 431, 417, 505…) and the connection is closed.
 */
import type { Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import { Http1Parser, type MessageHead } from './http1/http1-parser.ts'
import { LeanRequest } from './lean-request.ts'
import { LeanResponse } from './lean-response.ts'
import { answerPlainText, plainTextResponse } from './plain-text.ts'
import { RearmableTimer } from '../internal/rearmable-timer.ts'
import { checkRequestHead } from './request-head.ts'
import type { FrontendLimits } from './types.ts'

/** What the lean frontend hands requests and upgrades to. */
export interface LeanHandlers {
  request: (req: LeanRequest, res: LeanResponse) => void
  upgrade: (req: LeanRequest, socket: Duplex, head: Buffer) => void
  /** Told each time a client hits `limit`, with the client's address. */
  limit?: (limit: LeanLimitName, client: string | undefined) => void
}

/** The `frontend.limits` keys the lean frontend enforces itself and reports hits of. */
export type LeanLimitName = 'headersTimeout' | 'maxHeaderSize' | 'requestTimeout'

/** The connections of one lean frontend. */
export interface LeanFrontend {
  /** Takes over a client connection (its first bytes may already be unshifted back). */
  accept (socket: Socket): void
  /** Closes connections between requests; the others close after their response. */
  closeIdle (): void
  /** Cuts every connection. */
  closeAll (): void
}

/** Returns a lean frontend applying `limits`. */
export function createLeanFrontend (limits: FrontendLimits, handlers: LeanHandlers): LeanFrontend {
  const connections = new Set<LeanConnection>()
  let closing = false
  return {
    accept (socket) {
      const c = new LeanConnection(socket, limits, handlers, () => closing)
      connections.add(c)
      socket.once('close', () => connections.delete(c))
    },
    closeIdle () {
      closing = true
      for (const c of connections) c.closeIfIdle()
    },
    closeAll () {
      for (const c of connections) c.socket.destroy()
    }
  }
}

/** Why a head was refused, answered once the responses before it are written. */
interface Refusal { status: number, reason: string }

class LeanConnection {
  readonly socket: Socket
  readonly #handlers: LeanHandlers
  readonly #closing: () => boolean
  readonly #parser: Http1Parser
  /** Requests parsed and not yet answered; the first is being served. */
  readonly #queue: LeanRequest[] = []
  #active: LeanResponse | undefined
  /** The request whose body the parser is reading. */
  #reading: LeanRequest | undefined
  #inHead = false
  #refusal: Refusal | undefined
  #upgrade: { req: LeanRequest, rest: Buffer } | undefined
  /** headersTimeout, from a head's first byte to its end. */
  readonly #headTimer: RearmableTimer
  /** keepAliveTimeout, between requests. */
  readonly #idleTimer: RearmableTimer
  /** requestTimeout, until the body of the request being served is read. */
  readonly #bodyTimer: RearmableTimer
  #freed = false

  constructor (socket: Socket, limits: FrontendLimits, handlers: LeanHandlers, closing: () => boolean) {
    this.socket = socket
    this.#handlers = handlers
    this.#closing = closing
    this.#headTimer = new RearmableTimer(limits.headersTimeoutMs, () => {
      this.#hit('headersTimeout')
      this.#refuse({ status: 408, reason: 'request headers not received within frontend.limits.headersTimeout' })
    })
    this.#idleTimer = new RearmableTimer(limits.keepAliveTimeoutMs, () => { this.socket.destroy() })
    this.#bodyTimer = new RearmableTimer(limits.requestTimeoutMs, () => {
      const res = this.#active
      if (res === undefined || this.#queue[0]?.complete !== false) return
      this.#hit('requestTimeout')
      if (!res.headersSent) answerPlainText(res, 408, `request not received within frontend.limits.requestTimeout (${limits.requestTimeoutMs} ms)`, { connection: 'close' })
      this.socket.destroy()
    })
    this.#parser = new Http1Parser('request', limits.maxHeaderSize, {
      head: (h) => { this.#onHead(h); return false },
      body: (chunk) => { if (this.#reading !== undefined && !this.#reading.pushBody(chunk)) socket.pause() },
      complete: () => { this.#onComplete() }
    })
    socket.setNoDelay(true)
    socket.on('data', this.#onData)
    socket.on('error', () => {}) // a reset client; 'close' follows
    socket.once('close', () => { this.#onClose() })
  }

  readonly #onData = (chunk: Buffer): void => {
    if (this.#upgrade !== undefined) { this.#upgrade.rest = Buffer.concat([this.#upgrade.rest, chunk]); return }
    if (this.#refusal !== undefined) return
    if (!this.#inHead && this.#reading === undefined) {
      this.#inHead = true
      this.#idleTimer.disarm()
      this.#headTimer.arm()
    }
    const r = this.#parser.execute(chunk)
    if (typeof r !== 'number') {
      // llhttp judges some framing (Transfer-Encoding) only after the head callback: a head
      // delivered in the refused chunk was never started and is dropped with it.
      this.#queue.splice(this.#active === undefined ? 0 : 1)
      this.#reading = undefined
      if (r.code === 'HPE_HEADER_OVERFLOW') this.#hit('maxHeaderSize')
      this.#refuse(r.code === 'HPE_HEADER_OVERFLOW'
        ? { status: 431, reason: 'request header fields above frontend.limits.maxHeaderSize' }
        : { status: 400, reason: `request refused by the http/1.1 parser: ${r.reason}` })
      return
    }
    // After an upgrade head llhttp stops: the rest of the chunk belongs to the tunnel.
    const upgrade = this.#upgrade as { rest: Buffer } | undefined // set by the head callback during execute
    if (upgrade !== undefined) upgrade.rest = chunk.subarray(r)
    // Requests start only once the whole chunk parsed cleanly (see above).
    this.#next()
  }

  #onHead (h: MessageHead): void {
    this.#inHead = false
    this.#headTimer.disarm()
    if (this.#refusal !== undefined || this.#upgrade !== undefined) return
    const verdict = checkRequestHead(h)
    if (!verdict.ok) { this.#refuse({ status: verdict.status, reason: verdict.reason }); return }
    const req = new LeanRequest(h, this.socket, verdict.expectContinue, () => { this.socket.resume() })
    if (h.upgrade) { this.#upgrade = { req, rest: Buffer.alloc(0) }; this.socket.pause(); return }
    this.#reading = req.complete ? undefined : req
    this.#queue.push(req)
    if (this.#queue.length > 1) this.socket.pause() // pipelined: the next waits for this answer
  }

  #onComplete (): void {
    const req = this.#reading
    this.#reading = undefined
    if (req === undefined) return
    req.endBody()
    if (this.#active !== undefined && this.#queue[0] === req) this.#bodyTimer.disarm()
  }

  #hit (limit: LeanLimitName): void {
    this.#handlers.limit?.(limit, this.socket.remoteAddress)
  }

  #start (req: LeanRequest): void {
    const res = new LeanResponse(req, this.socket, (r, keepAlive) => { this.#finished(r, keepAlive) })
    this.#active = res
    if (this.#closing()) res.setHeader('connection', 'close')
    if (req.expectContinue && !req.complete) this.socket.write('HTTP/1.1 100 Continue\r\n\r\n', 'latin1')
    if (!req.complete) this.#bodyTimer.arm()
    this.#handlers.request(req, res)
  }

  #finished (res: LeanResponse, keepAlive: boolean): void {
    if (this.#active !== res) return
    this.#active = undefined
    this.#bodyTimer.disarm()
    this.#queue.shift()
    if (!keepAlive || this.#closing()) { this.socket.end(); this.socket.destroySoon(); return }
    this.#next()
  }

  /** Serves what waits: the next pipelined request, an upgrade, a refusal, or idles. */
  #next (): void {
    if (this.#active !== undefined) return
    const req = this.#queue[0]
    if (req !== undefined) { this.#start(req); if (this.#queue.length === 1) this.socket.resume(); return }
    if (this.#upgrade !== undefined) {
      const { req: up, rest } = this.#upgrade
      this.#detach()
      this.#handlers.upgrade(up, this.socket, rest)
      this.socket.resume()
      return
    }
    if (this.#refusal !== undefined) { this.#writeRefusal(this.#refusal); return }
    this.socket.resume()
    if (!this.#inHead) this.#idleTimer.arm()
  }

  #refuse (refusal: Refusal): void {
    this.#refusal ??= refusal
    this.socket.pause()
    this.#headTimer.disarm()
    if (this.#active === undefined && this.#queue.length === 0) this.#writeRefusal(this.#refusal)
  }

  #writeRefusal ({ status, reason }: Refusal): void {
    this.socket.end(plainTextResponse(status, reason))
    this.socket.destroySoon()
  }

  /** Closes the connection now if it is between requests. */
  closeIfIdle (): void {
    if (this.#active === undefined && this.#queue.length === 0 && !this.#inHead) this.socket.destroy()
  }

  #detach (): void {
    this.#headTimer.stop()
    this.#idleTimer.stop()
    this.socket.off('data', this.#onData)
    this.#free()
  }

  #free (): void {
    if (this.#freed) return
    this.#freed = true
    this.#parser.free()
  }

  #onClose (): void {
    this.#headTimer.stop()
    this.#idleTimer.stop()
    this.#bodyTimer.stop()
    for (const req of this.#queue) req.abortBody()
    this.#active?.clientClosed()
    this.#free()
  }

}
