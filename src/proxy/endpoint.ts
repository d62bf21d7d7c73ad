/**
 * One backend endpoint: its undici connection pool (keep-alive, built on the injected
 * connector), the requests in flight on it, and its health as active checks and passive
 * ejection decide it (docs/architecture.md#layers proxy).
 */
import { isIP, type Socket } from 'node:net'
import { Pool, type buildConnector } from 'undici'
import { OneShotDispatcher, type RequestDispatcher } from './one-shot-dispatcher.ts'
import type { ConnectFn, EndpointAddress, PeerIdentity, ServiceOptions } from './types.ts'
import { BACKEND_KEEP_ALIVE_TIMEOUT_MS } from '../defaults.ts'

/** Called when an endpoint turns healthy or unhealthy. */
export type HealthListener = (endpoint: Endpoint, healthy: boolean, reason: string | undefined) => void

/** What an endpoint needs besides its address. */
export interface EndpointDeps {
  connect: ConnectFn
  peerIdentity: PeerIdentity
  onHealthChange: HealthListener
}

/** Returns `host:port`, bracketing IPv6 hosts: the endpoint's name in logs, metrics, errors. */
export function endpointKey (a: EndpointAddress): string {
  return isIP(a.host) === 6 ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`
}

/** A backend endpoint with its pool and health state. */
export class Endpoint {
  readonly host: string
  readonly port: number
  /** `host:port`. */
  readonly key: string
  /** Keep-alive pool: health checks, and the requests of services that reuse connections. */
  readonly pool: Pool
  /**
   * Where proxied requests go: the pool, or for one request per connection
   * (`maxRequestsPerConnection: 1`) the lean {@link OneShotDispatcher}.
   */
  readonly dispatcher: RequestDispatcher
  /**
   * The constant TLS server name undici is told for this endpoint: undici otherwise derives it
   * from each request's Host header and reconnects whenever it changes. The connector sees
   * the endpoint's own host name (none for an IP), never the client's Host.
   */
  readonly servername: string
  /** Proxied requests currently using this endpoint (LEAST_REQUEST reads it). */
  inFlight = 0
  #healthy = true
  #reason: string | undefined
  #successes = 0
  #failures = 0
  #peerSpiffeId: string | undefined
  readonly #onHealthChange: HealthListener

  constructor (address: EndpointAddress, service: ServiceOptions, deps: EndpointDeps) {
    this.host = address.host
    this.port = address.port
    this.key = endpointKey(address)
    this.servername = address.host
    this.#onHealthChange = deps.onHealthChange
    const scheme = service.protocol === 'HTTP' ? 'http' : 'https'
    const cp = service.connectionPool
    const connect = this.#wrapConnector(deps.connect, deps.peerIdentity)
    this.pool = new Pool(`${scheme}://${this.key}`, {
      connect,
      connections: cp.maxConnectionsPerEndpoint ?? null,
      maxRequestsPerClient: cp.maxRequestsPerConnection,
      keepAliveTimeout: cp.keepAliveTimeoutMs ?? BACKEND_KEEP_ALIVE_TIMEOUT_MS,
      pipelining: 1
    })
    this.dispatcher = cp.maxRequestsPerConnection === 1 && !cp.keepAlive
      ? new OneShotDispatcher({ hostname: this.host, port: this.port, protocol: `${scheme}:` }, connect, (socket) => safeIdentity(deps.peerIdentity, socket))
      : this.pool
  }

  /** Stops taking requests; resolves once queued and running ones are done. */
  async close (): Promise<void> {
    await Promise.all([this.pool.close().catch(() => {}), this.dispatcher === this.pool ? undefined : this.dispatcher.close()])
  }

  /** Aborts whatever still runs on this endpoint. */
  async destroy (): Promise<void> {
    await Promise.all([this.pool.destroy(), this.dispatcher === this.pool ? undefined : this.dispatcher.destroy()])
  }

  get healthy (): boolean { return this.#healthy }
  /** Why the endpoint is unhealthy, or undefined while healthy. */
  get reason (): string | undefined { return this.#reason }
  /** The SPIFFE ID the endpoint proved on its latest connection, if the connector reports one. */
  get peerSpiffeId (): string | undefined { return this.#peerSpiffeId }

  /** Records an active check result; crosses to healthy/unhealthy only at the thresholds. */
  recordCheck (ok: boolean, reason: string | undefined, thresholds: { healthy: number, unhealthy: number }): void {
    if (ok) {
      this.#failures = 0
      this.#successes++
      if (!this.#healthy && this.#successes >= thresholds.healthy) this.#set(true, undefined)
    } else {
      this.#successes = 0
      this.#failures++
      if (this.#healthy && this.#failures >= thresholds.unhealthy) this.#set(false, reason)
      else if (!this.#healthy) this.#reason = reason
    }
  }

  /** Passive ejection: unhealthy at once; re-admission needs a full run of good checks. */
  eject (reason: string): void {
    this.#successes = 0
    this.#failures = 0
    if (this.#healthy) this.#set(false, reason)
  }

  /** Re-admits without checks (passive ejection expiry when no active check is configured). */
  readmit (): void {
    this.#successes = 0
    this.#failures = 0
    if (!this.#healthy) this.#set(true, undefined)
  }

  #set (healthy: boolean, reason: string | undefined): void {
    this.#healthy = healthy
    this.#reason = reason
    this.#onHealthChange(this, healthy, reason)
  }

  #wrapConnector (connect: ConnectFn, peerIdentity: PeerIdentity): ConnectFn {
    return (opts, callback) => {
      const { servername: _ignored, ...rest } = opts
      const options: buildConnector.Options = isIP(this.host) === 0 ? { ...rest, servername: this.host } : rest
      connect(options, (...args) => {
        const [err, socket] = args
        if (err === null && socket !== null) {
          this.#peerSpiffeId = safeIdentity(peerIdentity, socket as Socket)
        }
        callback(...args)
      })
    }
  }
}

/** Returns what `peerIdentity` says of `socket`, or undefined when it cannot tell (or throws). */
function safeIdentity (peerIdentity: PeerIdentity, socket: Socket): string | undefined {
  try {
    return peerIdentity(socket)
  } catch {
    return undefined
  }
}
