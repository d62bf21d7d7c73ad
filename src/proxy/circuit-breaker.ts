/**
 * A backend service's circuit breakers in the cloud's shape (`circuitBreakers`,
 * docs/architecture.md#security-model): past a limit the proxy answers 503 at once instead of
 * queueing without bound. `maxConnections` is applied by the endpoint pools; this counts the rest.
 */
import type { CircuitBreakerOptions } from './types.ts'

/** Counters of one backend service, checked against its limits. */
export class CircuitBreaker {
  readonly #limits: CircuitBreakerOptions
  /** Exchanges in flight. */
  active = 0
  /** Attempts waiting for a connection. */
  pending = 0
  /** Retry attempts in flight. */
  retries = 0

  constructor (limits: CircuitBreakerOptions | undefined) {
    this.#limits = limits ?? {}
  }

  /** Returns the limit a new request would break (`maxRequests`, `maxPendingRequests`), or undefined. */
  refuse (): string | undefined {
    const { maxRequests, maxPendingRequests } = this.#limits
    if (maxRequests !== undefined && this.active >= maxRequests) return 'maxRequests'
    if (maxPendingRequests !== undefined && this.pending >= maxPendingRequests) return 'maxPendingRequests'
    return undefined
  }

  /** Returns true when one more retry stays within `maxRetries`. */
  mayRetry (): boolean {
    const max = this.#limits.maxRetries
    return max === undefined || this.retries < max
  }

  /** Returns the limit's configured value, for the 503 body. */
  limit (name: string): number | undefined {
    return this.#limits[name as keyof CircuitBreakerOptions]
  }
}
