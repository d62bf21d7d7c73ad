/**
 * A backend service at run time (config/schema.ts `backendServices[]`): its endpoints and their
 * pools, the balancer, active health checks and passive ejection.
 */
import type { Clock, TimerHandle } from '../internal/clock.ts'
import { quote } from '../internal/errors.ts'
import { createBalancer, type Balancer } from './balancer.ts'
import { Endpoint } from './endpoint.ts'
import type { Failure } from './failure.ts'
import { CircuitBreaker } from './circuit-breaker.ts'
import { HealthChecker } from './health-check.ts'
import { OutlierDetector, type AttemptOutcome } from './outlier-detection.ts'
import type { ConnectFn, PeerIdentity, ProxyLogger, ProxyMetrics, ServiceOptions, ServiceStatus } from './types.ts'
import { proxyError } from './errors.ts'

/** What a service needs from the proxy. */
export interface ServiceDeps {
  /** Used when the service has no connector of its own. */
  connect: ConnectFn | undefined
  peerIdentity: PeerIdentity
  clock: Clock
  random: () => number
  logger: ProxyLogger
  metrics: ProxyMetrics | undefined
}


/** One backend service with its endpoints. */
export class BackendService {
  readonly name: string
  readonly options: ServiceOptions
  readonly endpoints: readonly Endpoint[]
  readonly #balancer: Balancer
  readonly #checker: HealthChecker | undefined
  readonly #deps: ServiceDeps
  readonly #readmitTimers = new Map<Endpoint, TimerHandle>()
  readonly #outliers: OutlierDetector
  readonly #ejectionMs = new Map<Endpoint, number>()
  /** Requests, pending attempts and retries in flight, against `circuitBreakers`. */
  readonly breaker: CircuitBreaker
  #started = false

  constructor (options: ServiceOptions, deps: ServiceDeps) {
    this.name = options.name
    this.options = options
    this.#deps = deps
    this.#balancer = createBalancer(options.policy, deps.random)
    const connect = options.connect ?? deps.connect
    if (connect === undefined) {
      throw proxyError('ERR_SPIFFE_PROXY_NO_CONNECTOR',
        `backend service ${quote(options.name)} has no backend connector (set it on the service or the proxy)`)
    }
    this.breaker = new CircuitBreaker(options.circuitBreakers)
    this.#outliers = new OutlierDetector(options.outlierDetection, options.passiveEjectionMs, deps.random)
    const maxConnections = options.circuitBreakers?.maxConnections
    const perEndpoint = maxConnections === undefined || options.endpoints.length === 0
      ? options.connectionPool.maxConnectionsPerEndpoint
      : Math.min(Math.max(1, Math.ceil(maxConnections / options.endpoints.length)), options.connectionPool.maxConnectionsPerEndpoint ?? Infinity)
    const endpointOptions: ServiceOptions = perEndpoint === undefined
      ? options
      : { ...options, connectionPool: { ...options.connectionPool, maxConnectionsPerEndpoint: perEndpoint } }
    this.endpoints = options.endpoints.map((a) => new Endpoint(a, endpointOptions, {
      connect,
      peerIdentity: deps.peerIdentity,
      onHealthChange: (e, healthy, reason) => { this.#healthChanged(e, healthy, reason) },
      clock: deps.clock,
      changes: options.credentialChanges,
      onRetire: (e, reason) => { deps.logger.info({ service: this.name, endpoint: e.key, reason }, 'backend connections retired') }
    }))
    this.#checker = options.healthCheck === undefined
      ? undefined
      : new HealthChecker(this.endpoints, options.healthCheck, deps.clock)
  }

  /** Publishes endpoint health and starts the active checks. */
  start (): void {
    this.#started = true
    for (const e of this.endpoints) {
      this.#deps.metrics?.setEndpointHealthy(this.name, e.key, e.healthy)
      if (!e.healthy) this.#scheduleReadmit(e) // inherited ejection
    }
    this.#checker?.start()
  }

  /** Returns a healthy endpoint chosen by the policy, never one in `exclude`; or undefined. */
  pick (exclude?: ReadonlySet<Endpoint>): Endpoint | undefined {
    const healthy = this.endpoints.filter((e) => e.healthy && exclude?.has(e) !== true)
    return this.#balancer.pick(healthy)
  }

  /** Returns true when at least one endpoint is healthy. */
  hasHealthy (): boolean { return this.endpoints.some((e) => e.healthy) }

  /** Ejects `e` at once (a backend whose identity was refused), for the outlier ejection time. */
  eject (e: Endpoint, reason: string): void {
    if (e.healthy) this.#ejectionMs.set(e, this.#outliers.ejected(e.key))
    e.eject(reason)
    this.#scheduleReadmit(e)
  }

  /**
   * Records what an attempt on `e` came to (outlier detection); ejects it when its consecutive
   * errors or gateway failures reach the limit and `maxEjectionPercent` allows one more.
   */
  record (e: Endpoint, outcome: AttemptOutcome, detail: string): void {
    const reason = this.#outliers.record(e.key, outcome, detail)
    if (reason === undefined || !e.healthy) return
    const ejected = this.endpoints.filter((x) => !x.healthy).length
    if (ejected + 1 > this.#outliers.maxEjected(this.endpoints.length)) return
    this.eject(e, reason)
  }

  /** Passive health after a failed attempt: identity refused → ejected; else outlier counting. */
  failed (e: Endpoint, failure: Failure): void {
    if (failure.kind === 'rejected') this.eject(e, failure.message)
    else if (failure.kind !== 'none') this.record(e, failure.kind, failure.message)
  }

  /** Counts a request refused by the circuit breaker `reason` (metrics and log). */
  circuitBreakerTripped (reason: string): void {
    this.#deps.metrics?.observeCircuitBreaker?.(this.name, reason)
  }

  #scheduleReadmit (e: Endpoint): void {
    if (this.#checker !== undefined || this.#readmitTimers.has(e) || !this.#started) return
    // Without active checks nothing else would ever bring the endpoint back.
    const timer = this.#deps.clock.setTimeout(() => {
      this.#readmitTimers.delete(e)
      e.readmit()
    }, this.#ejectionMs.get(e) ?? this.#outliers.ejected(e.key))
    timer.unref()
    this.#readmitTimers.set(e, timer)
  }

  /** Runs one round of active checks now (no-op without a health check). */
  async checkNow (): Promise<void> { await this.#checker?.checkNow() }

  /** Stops checks and timers so this service no longer changes state (synchronous). */
  stop (): void {
    this.#started = false
    this.#checker?.stop()
    for (const t of this.#readmitTimers.values()) this.#deps.clock.clearTimeout(t)
    this.#readmitTimers.clear()
  }

  /** Stops, then closes the pools once their queued and running requests are done. */
  async close (): Promise<void> {
    this.stop()
    // A pool already destroyed (the proxy closed meanwhile) has nothing left to drain.
    await Promise.all(this.endpoints.map(async (e) => { await e.close() }))
  }

  /** Stops, then aborts whatever still runs on the pools. */
  async destroy (): Promise<void> {
    this.stop()
    await Promise.all(this.endpoints.map(async (e) => { await e.destroy() }))
  }

  /** Returns the service's endpoints with health, in configuration order. */
  status (): ServiceStatus {
    return {
      name: this.name,
      policy: this.options.policy,
      endpoints: this.endpoints.map((e) => ({
        endpoint: e.key,
        healthy: e.healthy,
        ...(e.reason === undefined ? {} : { reason: e.reason }),
        inFlight: e.inFlight,
        ...(e.peerSpiffeId === undefined ? {} : { peerSpiffeId: e.peerSpiffeId })
      }))
    }
  }

  #healthChanged (e: Endpoint, healthy: boolean, reason: string | undefined): void {
    if (!this.#started) return
    this.#deps.metrics?.setEndpointHealthy(this.name, e.key, healthy)
    this.#deps.logger.warn({ service: this.name, endpoint: e.key, healthy, reason },
      healthy ? 'endpoint healthy' : 'endpoint unhealthy')
  }
}
