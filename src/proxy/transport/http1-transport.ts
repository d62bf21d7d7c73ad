/**
 * The lean HTTP/1.1 transport: one endpoint's pool of raw verified sockets from the backend
 * connector, each carrying one request at a time (see http1-connection.ts). The most recently
 * used idle connection is taken first, so a quiet pool shrinks by keep-alive timeouts; past
 * `maxConnections` requests wait in order. With `keepAlive` off every request gets its own
 * connection and says `connection: close`.
 */
import type { Socket } from 'node:net'
import type { Dispatcher } from 'undici'
import { Http1Connection } from './http1-connection.ts'
import { transportError } from './transport-errors.ts'
import type { Transport, TransportHandler } from './types.ts'

/** What an {@link Http1Transport} needs. */
export interface Http1TransportOptions {
  /** Opens one verified connection to the endpoint. */
  open: (callback: (err: Error | null, socket: Socket | null) => void) => void
  /** Returns the SPIFFE ID the connection's peer proved, if known. */
  identify: (socket: Socket) => string | undefined
  /** Reuse connections between requests. */
  keepAlive: boolean
  /** Requests per connection before it is closed; 0 = unlimited. */
  maxRequestsPerConnection: number
  /** Idle connections close after this long (ms). */
  keepAliveTimeoutMs: number
  /** `host:port` of the endpoint: the Host of requests that came without one. */
  authority: string
  /** Upper bound of open connections; undefined = none. */
  maxConnections: number | undefined
}

interface Waiting { options: Dispatcher.DispatchOptions, handler: TransportHandler }

/** See the module comment. */
export class Http1Transport implements Transport {
  readonly #o: Http1TransportOptions
  readonly #idle: Http1Connection[] = []
  readonly #all = new Set<Http1Connection>()
  readonly #queue: Waiting[] = []
  #opening = 0
  #closed = false
  #drained: (() => void) | undefined

  constructor (options: Http1TransportOptions) {
    this.#o = options
  }

  dispatch (options: Dispatcher.DispatchOptions, handler: TransportHandler): boolean {
    if (this.#closed) {
      queueMicrotask(() => { handler.onResponseError?.(unsentController, transportError('closed', 'the backend connections are closing')) })
      return false
    }
    let conn = this.#idle.pop()
    while (conn !== undefined && conn.socket.destroyed) conn = this.#idle.pop()
    if (conn !== undefined) { this.#send(conn, options, handler); return true }
    const max = this.#o.maxConnections
    if (max !== undefined && this.#all.size + this.#opening >= max) { this.#queue.push({ options, handler }); return true }
    this.#open(options, handler)
    return true
  }

  #open (options: Dispatcher.DispatchOptions, handler: TransportHandler): void {
    this.#opening++
    this.#o.open((err, socket) => {
      this.#opening--
      if (err !== null || socket === null) {
        handler.onResponseError?.(unsentController, err ?? transportError('socket', 'the backend connector returned no socket'))
        this.#next()
        this.#checkDrained() // a close() that waited for this connect
        return
      }
      const conn = new Http1Connection(socket, this.#o.identify(socket), (c, reusable) => { this.#released(c, reusable) })
      this.#all.add(conn)
      socket.once('close', () => { this.#forget(conn) })
      this.#send(conn, options, handler)
    })
  }

  #send (conn: Http1Connection, options: Dispatcher.DispatchOptions, handler: TransportHandler): void {
    const max = this.#o.maxRequestsPerConnection
    const last = !this.#o.keepAlive || this.#closed || (max > 0 && conn.requests + 1 >= max)
    conn.send(options, handler, !last, this.#o.authority)
  }

  #released (conn: Http1Connection, reusable: boolean): void {
    if (reusable && !this.#closed && !conn.socket.destroyed) {
      const waiting = this.#queue.shift()
      if (waiting !== undefined) { this.#send(conn, waiting.options, waiting.handler); return }
      conn.idle(this.#o.keepAliveTimeoutMs)
      this.#idle.push(conn)
      return
    }
    conn.socket.destroy()
  }

  #forget (conn: Http1Connection): void {
    this.#all.delete(conn)
    const i = this.#idle.indexOf(conn)
    if (i !== -1) this.#idle.splice(i, 1)
    this.#next()
    this.#checkDrained()
  }

  #checkDrained (): void {
    if (this.#closed && this.#all.size === 0 && this.#opening === 0) this.#drained?.()
  }

  /** A connection slot came free: open one for the first waiting request. */
  #next (): void {
    const max = this.#o.maxConnections
    if (this.#queue.length === 0 || this.#closed) return
    if (max !== undefined && this.#all.size + this.#opening >= max) return
    const waiting = this.#queue.shift()
    if (waiting !== undefined) this.#open(waiting.options, waiting.handler)
  }

  async close (): Promise<void> {
    this.#closed = true
    for (const conn of this.#idle.splice(0)) conn.socket.destroy()
    for (const w of this.#queue.splice(0)) w.handler.onResponseError?.(unsentController, transportError('closed', 'the backend connections are closing'))
    if (this.#all.size === 0 && this.#opening === 0) return
    await new Promise<void>((resolve) => { this.#drained = resolve })
  }

  async destroy (): Promise<void> {
    this.#closed = true
    const error = transportError('destroyed', 'the backend connections were destroyed')
    for (const w of this.#queue.splice(0)) w.handler.onResponseError?.(unsentController, error)
    for (const conn of [...this.#all]) conn.fail(error)
    this.#idle.length = 0
  }
}

/** The controller of a request that never reached a connection: nothing to pause or abort. */
const unsentController: Dispatcher.DispatchController = {
  aborted: false,
  paused: false,
  reason: null,
  abort () {},
  pause () {},
  resume () {}
}
