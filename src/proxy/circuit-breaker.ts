/**
 * A backend service's circuit breakers in the cloud's shape (`circuitBreakers`,
 * docs/architecture.md#security-model): past a limit the proxy answers 503 at once instead of
 * queueing without bound. `maxConnections` is applied by the endpoint pools; this counts the rest.
 */
import type { CircuitBreakerOptions } from './types.ts'

/** What a breaker counts: exchanges in flight, attempts waiting for a connection, retries in flight. */
export type BreakerSlot = 'request' | 'pending' | 'retry'

/** Counters of one backend service, checked against its limits. */
export class CircuitBreaker {
  readonly #limits: CircuitBreakerOptions
  /** Exchanges in flight. */
  #active = 0
  /** Attempts waiting for a connection. */
  #pending = 0
  /** Retry attempts in flight. */
  #retries = 0

  constructor (limits: CircuitBreakerOptions | undefined) {
    this.#limits = limits ?? {}
  }

  /**
   * Takes one `slot`. A request is refused when a limit would break: returns that limit's name
   * (`maxRequests`, `maxPendingRequests`) and takes nothing; undefined = admitted. Pending
   * attempts and retries are only counted (retries are asked for with {@link mayRetry}).
   * Every admitted slot is given back with one {@link release}.
   */
  admit (slot: BreakerSlot): string | undefined {
    if (slot === 'request') {
      const { maxRequests, maxPendingRequests } = this.#limits
      if (maxRequests !== undefined && this.#active >= maxRequests) return 'maxRequests'
      if (maxPendingRequests !== undefined && this.#pending >= maxPendingRequests) return 'maxPendingRequests'
      this.#active++
    } else if (slot === 'pending') {
      this.#pending++
    } else {
      this.#retries++
    }
    return undefined
  }

  /** Gives back one slot taken by {@link admit}. */
  release (slot: BreakerSlot): void {
    if (slot === 'request') this.#active--
    else if (slot === 'pending') this.#pending--
    else this.#retries--
  }

  /** Returns true when one more retry stays within `maxRetries`. */
  mayRetry (): boolean {
    const max = this.#limits.maxRetries
    return max === undefined || this.#retries < max
  }

  /** Returns the limit's configured value, for the 503 body. */
  limit (name: string): number | undefined {
    return this.#limits[name as keyof CircuitBreakerOptions]
  }
}
