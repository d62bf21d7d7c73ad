/**
 * One backend endpoint: its undici connection pool (keep-alive, built on the injected
 * connector), the requests in flight on it, and its health as active checks and passive
 * ejection decide it (docs/architecture.md#layers proxy). A credential change that concerns the pool's
 * connections (SVID rotated or expired, the backend's trust domain changed or gone: docs/architecture.md
 * security) retires the pool: new requests go to a fresh one at once, the old one
 * finishes what runs on it and closes. Over 250 lines: the pool, its retirement and the health
 * state share the endpoint's fields and lifecycle; apart, each would reach into the others.
 */
import { isIP, type Socket } from 'node:net'
import { createRequire } from 'node:module'
import type { buildConnector } from 'undici'
import type { Clock } from '../internal/clock.ts'
import type { CredentialChange, CredentialChanges } from '../tls/credential-changes.ts'
import { guardH2Socket } from './h2-stream-guard.ts'
import { Http1Transport } from './transport/http1-transport.ts'
import type { Transport } from './transport/types.ts'
import type { ConnectFn, EndpointAddress, PeerId, PeerIdentity, ServiceOptions } from './types.ts'
import { BACKEND_KEEP_ALIVE_TIMEOUT_MS, BACKEND_MAX_CONCURRENT_STREAMS } from '../defaults.ts'
import { formatHostPort } from '../internal/host-port.ts'
import type { BackendProtocol } from '../enums.ts'

const require = createRequire(import.meta.url)

/**
 * Returns undici, loaded on first use: only HTTP/2 endpoints pool through it, and a process
 * whose backends all speak HTTP/1.1 is spared its memory (transport/transport-errors.ts).
 */
const undici = (): typeof import('undici') => require('undici') as typeof import('undici')

/** Called when an endpoint turns healthy or unhealthy. */
export type HealthListener = (endpoint: Endpoint, healthy: boolean, reason: string | undefined) => void

/** What an endpoint needs besides its address. */
export interface EndpointDeps {
  connect: ConnectFn
  peerIdentity: PeerIdentity
  onHealthChange: HealthListener
  clock: Clock
  /** Where credential changes come from (the service's connector); none = never retire. */
  changes?: CredentialChanges | undefined
  /** Called after the pool was retired, for the log. */
  onRetire?: (endpoint: Endpoint, reason: string) => void
}

/** A backend's proved identity: its SPIFFE ID and trust domain, read once per connection. */
interface ProvedPeer { id: string, trustDomain: string | undefined }

/** Returns the typed identity; a library caller's string ID is read for its trust domain once. */
function provedPeer (peer: PeerId | string | undefined): ProvedPeer | undefined {
  if (peer === undefined) return undefined
  if (typeof peer !== 'string') return { id: peer.toString(), trustDomain: peer.trustDomain.name }
  return { id: peer, trustDomain: /^spiffe:\/\/([^/]+)/.exec(peer)?.[1] }
}

/** What the connections of one pool were made with, to decide whether a change concerns them. */
interface PoolTag {
  /** Trust domains of the backends its connections verified. */
  domains: Set<string>
  /** A connection whose peer identity is unknown: any trust change concerns it. */
  unknownPeer: boolean
  /** Connections made so far. */
  connections: number
}

/** Returns `host:port`, bracketing IPv6 hosts: the endpoint's name in logs, metrics, errors. */
export function endpointKey (a: EndpointAddress): string {
  return formatHostPort(a.host, a.port)
}

/** A backend endpoint with its pool and health state. */
export class Endpoint {
  readonly host: string
  readonly port: number
  /** `host:port`. */
  readonly key: string
  #pool: Transport
  #tag: PoolTag
  readonly #oneShot: Transport | undefined
  /** Retired pools still finishing their requests. */
  readonly #retired = new Set<Transport>()
  readonly #newPool: () => { pool: Transport, tag: PoolTag }
  readonly #clock: Clock
  readonly #changes: CredentialChanges | undefined
  readonly #unsubscribe: () => void
  readonly #onRetire: ((endpoint: Endpoint, reason: string) => void) | undefined
  #expiryRetired: number | undefined
  /**
   * The constant TLS server name undici is told for this endpoint: undici otherwise derives it
   * from each request's Host header and reconnects whenever it changes. The connector sees
   * the endpoint's own host name (none for an IP), never the client's Host.
   */
  readonly servername: string
  /** `HTTP2`: requests multiplex over HTTP/2 connections (ALPN `h2` required). */
  readonly protocol: BackendProtocol
  readonly #connect: ConnectFn
  readonly #peerIdentity: PeerIdentity
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
    this.protocol = service.protocol ?? 'HTTPS'
    this.#connect = deps.connect
    this.#peerIdentity = deps.peerIdentity
    this.#onHealthChange = deps.onHealthChange
    this.#clock = deps.clock
    this.#changes = deps.changes
    this.#onRetire = deps.onRetire
    const scheme = service.protocol === 'HTTP' ? 'http' : 'https'
    const h2 = this.protocol === 'HTTP2'
    const cp = service.connectionPool
    // HTTP/2 pools are retired like HTTP/1.1 ones: closing an h2 pool sends GOAWAY, so its
    // running streams finish while new requests open connections under the new credentials.
    this.#newPool = () => {
      const tag: PoolTag = { domains: new Set(), unknownPeer: false, connections: 0 }
      if (!h2) return { pool: this.#http1(this.#wrapConnector(tag, false), cp.keepAlive, cp), tag }
      const { Pool } = undici()
      const pool = new Pool(`${scheme}://${this.key}`, {
        connect: this.#wrapConnector(tag, h2),
        connections: cp.maxConnectionsPerEndpoint ?? null,
        maxRequestsPerClient: cp.maxRequestsPerConnection,
        keepAliveTimeout: cp.keepAliveTimeoutMs ?? BACKEND_KEEP_ALIVE_TIMEOUT_MS,
        pipelining: 1,
        allowH2: true,
        h2Options: { maxConcurrentStreams: cp.maxConcurrentStreams ?? BACKEND_MAX_CONCURRENT_STREAMS }
      })
      return { pool, tag }
    }
    ;({ pool: this.#pool, tag: this.#tag } = this.#newPool())
    // One request per connection pools nothing, so a credential change has nothing to retire there.
    // HTTP/2 always pools: its connections multiplex.
    this.#oneShot = !h2 && cp.maxRequestsPerConnection === 1 && !cp.keepAlive
      ? this.#http1(this.#wrapConnector(undefined, false), false, cp)
      : undefined
    this.#unsubscribe = deps.changes?.onCredentialChange((c) => { this.#changed(c) }) ?? (() => {})
  }

  /** Keep-alive pool in force: health checks, and the requests of services that reuse connections. */
  get pool (): Transport { return this.#pool }

  /** Returns the lean HTTP/1.1 transport over `connect` (see transport/http1-transport.ts). */
  #http1 (connect: ConnectFn, keepAlive: boolean, cp: ServiceOptions['connectionPool']): Transport {
    const scheme = this.protocol === 'HTTP' ? 'http:' : 'https:'
    const target = { hostname: this.host, host: this.host, port: String(this.port), protocol: scheme, servername: this.servername }
    return new Http1Transport({
      open: (callback) => { connect(target, (err, socket) => { callback(err, err === null ? socket as Socket | null : null) }) },
      identify: (socket) => provedPeer(safeIdentity(this.#peerIdentity, socket))?.id,
      keepAlive,
      maxRequestsPerConnection: cp.maxRequestsPerConnection,
      keepAliveTimeoutMs: cp.keepAliveTimeoutMs ?? BACKEND_KEEP_ALIVE_TIMEOUT_MS,
      authority: this.key,
      maxConnections: cp.maxConnectionsPerEndpoint
    })
  }

  /**
   * Where proxied requests go: the pool in force, or for one request per connection
   * (`maxRequestsPerConnection: 1`) a transport that pools nothing. An SVID past its
   * notAfter retires the pool here too, so no request goes out over a connection presenting it
   * even before the expiry timer has run.
   */
  get dispatcher (): Transport {
    const notAfter = this.#changes?.svidNotAfter()
    if (notAfter !== undefined && this.#clock.now() >= notAfter && this.#expiryRetired !== notAfter) {
      this.#expiryRetired = notAfter
      this.#changed({ svid: true, trustDomains: new Set(), reason: 'svid expired' })
    }
    return this.#oneShot ?? this.#pool
  }

  /**
   * Retires the pool in force: later requests go to a fresh pool; the old one lets its running
   * requests finish, closes its idle connections at once and the others after their response.
   */
  retire (reason: string): void {
    const old = this.#pool
    ;({ pool: this.#pool, tag: this.#tag } = this.#newPool())
    this.#retired.add(old)
    void old.close().catch(() => {}).finally(() => { this.#retired.delete(old) })
    this.#onRetire?.(this, reason)
  }

  #changed (change: CredentialChange): void {
    const tag = this.#tag
    if (tag.connections === 0) return // nothing was connected under the old credentials
    const concerned = change.svid || (change.trustDomains.size > 0 && tag.unknownPeer) ||
      [...tag.domains].some((d) => change.trustDomains.has(d))
    if (concerned) this.retire(change.reason)
  }

  /** Stops taking requests; resolves once queued and running ones are done. */
  async close (): Promise<void> {
    this.#unsubscribe()
    await Promise.all([this.#pool, ...this.#retired].map(async (p) => { await p.close().catch(() => {}) }))
    await this.#oneShot?.close()
  }

  /** Aborts whatever still runs on this endpoint. */
  async destroy (): Promise<void> {
    this.#unsubscribe()
    await Promise.all([this.#pool, ...this.#retired].map(async (p) => { await p.destroy() }))
    await this.#oneShot?.destroy()
  }

  /**
   * Opens one verified connection outside the pools (WebSocket relays): HTTP/1.1 by ALPN, also
   * for HTTP2 services, since the upgrade is an HTTP/1.1 mechanism (see websocket-relay.ts).
   * The connection is made under the credentials in force now and lives as long as its relay.
   */
  connectRaw (callback: (err: Error | null, socket: Socket | null) => void): void {
    const connect = this.#wrapConnector(undefined, false)
    const scheme = this.protocol === 'HTTP' ? 'http:' : 'https:'
    connect({ hostname: this.host, host: this.host, port: String(this.port), protocol: scheme, servername: this.servername }, (err, socket) => {
      callback(err, err === null ? socket as Socket | null : null)
    })
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

  /** The connector with this endpoint's server name and ALPN; counts into `tag` what it connects. */
  #wrapConnector (tag: PoolTag | undefined, h2: boolean): ConnectFn {
    const connect = this.#connect
    const peerIdentity = this.#peerIdentity
    // Only the mTLS connector reads the ALPN fields; a plain connector ignores them.
    const alpn = h2 ? { alpnProtocols: ['h2', 'http/1.1'], requireAlpn: 'h2' } : { alpnProtocols: ['http/1.1'] }
    return (opts, callback) => {
      const { servername: _ignored, ...rest } = opts
      const named = isIP(this.host) === 0 ? { ...rest, servername: this.host } : rest
      const options: buildConnector.Options = { ...named, ...alpn }
      connect(options, (...args) => {
        const [err, socket] = args
        if (err === null && socket !== null) {
          if (h2) guardH2Socket(socket)
          const peer = provedPeer(safeIdentity(peerIdentity, socket as Socket))
          this.#peerSpiffeId = peer?.id
          if (tag !== undefined) {
            tag.connections++
            const td = peer?.trustDomain
            if (td === undefined) tag.unknownPeer = true
            else tag.domains.add(td)
          }
        }
        callback(...args)
      })
    }
  }
}

/** Returns what `peerIdentity` says of `socket`, or undefined when it cannot tell (or throws). */
function safeIdentity (peerIdentity: PeerIdentity, socket: Socket): PeerId | string | undefined {
  try {
    return peerIdentity(socket)
  } catch {
    return undefined
  }
}
