/**
 * One generation of routing state: the compiled url map plus the backend services it names.
 * A reload builds a new table and swaps one reference; requests keep the table they started
 * on, and a retired table closes its pools only after its last request is done.
 */
import { SpiffeLbError, quote } from '../internal/errors.ts'
import { BackendService, type ServiceDeps } from './backend-service.ts'
import { compileUrlMap, type Router } from './router.ts'
import { LB_POLICIES, oneOfText } from '../enums.ts'
import { type RoutingOptions, type ServiceOptions, type ServiceStatus, type UrlMapOptions } from './types.ts'
import { proxyError } from './errors.ts'

/** Routing options before connectors exist: services as plain data, and the url map. */
export interface RoutingShape {
  services: ReadonlyArray<Omit<ServiceOptions, 'connect'>>
  urlMap: UrlMapOptions
}

/**
 * Returns the compiled router of `options` after checking every service and the url map.
 * Throws `ERR_SPIFFE_PROXY_*` with the option path in `at`. Needs no connector, so a cluster
 * primary can check a plan before any worker builds one.
 */
export function compileRouting (options: RoutingShape): Router {
  const names = new Set<string>()
  for (const [i, s] of options.services.entries()) {
    validateService(s, `services[${i}]`)
    if (names.has(s.name)) {
      throw proxyError('ERR_SPIFFE_PROXY_DUPLICATE_SERVICE',
        `backend service names must be unique; ${quote(s.name)} is repeated`, { at: `services[${i}].name` })
    }
    names.add(s.name)
  }
  return compileUrlMap(options.urlMap, names)
}

/** Services and url map of one configuration generation. */
export class RoutingTable {
  readonly router: Router
  readonly services: ReadonlyMap<string, BackendService>
  #active = 0
  #retired = false
  #onIdle: (() => void) | undefined

  /**
   * Returns a table for `options`. Throws `ERR_SPIFFE_PROXY_*` (with `at`) on an invalid
   * service or url map before any pool is created, so a bad reload leaves nothing behind.
   */
  constructor (options: RoutingOptions, deps: ServiceDeps) {
    this.router = compileRouting(options)
    for (const [i, s] of options.services.entries()) {
      if (s.connect === undefined && deps.connect === undefined) {
        throw proxyError('ERR_SPIFFE_PROXY_NO_CONNECTOR',
          `backend service ${quote(s.name)} has no backend connector (set it on the service or the proxy)`, { at: `services[${i}].connect` })
      }
    }
    this.services = new Map(options.services.map((s) => [s.name, new BackendService(s, deps)]))
  }

  /** Copies the health of endpoints `old` has too (same service and address); call before start. */
  inheritHealth (old: RoutingTable): void {
    for (const [name, service] of this.services) {
      const before = old.services.get(name)
      // An ejection is the verdict of the connector that made it: a new connector (another
      // identity, resumption setting or allow-list) judges the endpoints afresh.
      if (before === undefined || before.options.connect !== service.options.connect) continue
      for (const e of service.endpoints) {
        const prev = before.endpoints.find((x) => x.key === e.key)
        if (prev !== undefined && !prev.healthy) e.eject(prev.reason ?? 'unhealthy before the reload')
      }
    }
  }

  /** Starts health checks and publishes endpoint health. */
  start (): void {
    for (const s of this.services.values()) s.start()
  }

  /** Marks one request as using this table. */
  acquire (): void { this.#active++ }

  /** Marks that request done; the last one out of a retired table lets it close. */
  release (): void {
    this.#active--
    if (this.#active === 0 && this.#retired) this.#onIdle?.()
  }

  /** Requests still using this table. */
  get active (): number { return this.#active }

  /** Stops health checks now; resolves after in-flight requests finished and pools closed. */
  async retire (): Promise<void> {
    this.#retired = true
    for (const s of this.services.values()) s.stop()
    if (this.#active > 0) await new Promise<void>((resolve) => { this.#onIdle = resolve })
    await Promise.all([...this.services.values()].map(async (s) => { await s.close() }))
  }

  /** Aborts whatever still runs and closes every pool. */
  async destroy (): Promise<void> {
    this.#retired = true
    await Promise.all([...this.services.values()].map(async (s) => { await s.destroy() }))
  }

  /** Returns every service with its endpoints' health. */
  status (): ServiceStatus[] {
    return [...this.services.values()].map((s) => s.status())
  }
}

function validateService (s: Omit<ServiceOptions, 'connect'>, at: string): void {
  const bad = (field: string, rule: string, value: unknown): SpiffeLbError =>
    proxyError('ERR_SPIFFE_PROXY_BAD_SERVICE', `${rule}; got ${quote(value)}`, { at: `${at}.${field}` })
  if (typeof s.name !== 'string' || s.name === '') throw bad('name', 'backend service name must be non-empty', s.name)
  if (!LB_POLICIES.includes(s.policy)) throw bad('policy', `policy must be ${oneOfText(LB_POLICIES)}`, s.policy)
  if (!(Number.isFinite(s.timeoutMs) && s.timeoutMs > 0)) throw bad('timeoutMs', 'timeout must be a positive number of ms', s.timeoutMs)
  for (const [j, e] of s.endpoints.entries()) {
    if (!Number.isInteger(e.port) || e.port < 1 || e.port > 65535) {
      throw bad(`endpoints[${j}].port`, 'endpoint port must be 1-65535', e.port)
    }
    if (e.host === '') throw bad(`endpoints[${j}].host`, 'endpoint host must be non-empty', e.host)
  }
  const m = s.connectionPool.maxRequestsPerConnection
  if (!Number.isInteger(m) || m < 0) {
    throw bad('connectionPool.maxRequestsPerConnection', 'max requests per connection must be an integer >= 0 (0 = unlimited)', m)
  }
  const hc = s.healthCheck
  if (hc !== undefined) {
    for (const k of ['intervalMs', 'timeoutMs', 'healthyThreshold', 'unhealthyThreshold'] as const) {
      if (!(Number.isFinite(hc[k]) && hc[k] > 0)) throw bad(`healthCheck.${k}`, `health check ${k} must be positive`, hc[k])
    }
    if (!hc.path.startsWith('/')) throw bad('healthCheck.path', 'health check path must start with "/"', hc.path)
  }
}
