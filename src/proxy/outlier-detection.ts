/**
 * Passive health from real traffic, in the shape of the cloud's `outlierDetection`
 * (docs/architecture.md#security-model): consecutive 5xx answers or gateway failures (502,
 * 503, 504, connect failures, timeouts, resets) eject an endpoint for `baseEjectionTime` times its ejections in
 * a row. Without the block, only an endpoint that cannot be connected to is ejected, at once.
 */
import { PASSIVE_EJECTION_MS, PASSIVE_MAX_EJECTION_PERCENT } from '../defaults.ts'
import type { OutlierDetectionOptions } from './types.ts'

/** What one attempt on an endpoint came to, as outlier detection counts it. */
export type AttemptOutcome = 'success' | 'error' | 'gateway' | 'connect'

interface EndpointCounters { errors: number, gateway: number, ejections: number }

/** Counts outcomes per endpoint and says when one must be ejected. */
export class OutlierDetector {
  readonly #options: OutlierDetectionOptions | undefined
  readonly #passiveMs: number
  readonly #random: () => number
  readonly #counters = new Map<string, EndpointCounters>()

  constructor (options: OutlierDetectionOptions | undefined, passiveEjectionMs: number | undefined, random: () => number) {
    this.#options = options
    this.#passiveMs = passiveEjectionMs ?? PASSIVE_EJECTION_MS
    this.#random = random
  }

  /** Records `outcome` on endpoint `key`; returns why to eject it now, or undefined. */
  record (key: string, outcome: AttemptOutcome, detail: string): string | undefined {
    const o = this.#options
    const c = this.#counters.get(key) ?? { errors: 0, gateway: 0, ejections: 0 }
    this.#counters.set(key, c)
    if (o === undefined) return outcome === 'connect' ? detail : undefined
    if (outcome === 'success') {
      c.errors = 0
      c.gateway = 0
      c.ejections = 0
      return undefined
    }
    c.errors++
    c.gateway = outcome === 'error' ? 0 : c.gateway + 1
    const enforce = (percent: number): boolean => this.#random() * 100 < percent
    let reason: string | undefined
    if (c.gateway >= o.consecutiveGatewayFailure && enforce(o.enforcingConsecutiveGatewayFailure)) {
      reason = `${c.gateway} consecutive gateway failures (last: ${detail})`
    } else if (c.errors >= o.consecutiveErrors && enforce(o.enforcingConsecutiveErrors)) {
      reason = `${c.errors} consecutive errors (last: ${detail})`
    }
    if (reason === undefined) return undefined
    c.errors = 0
    c.gateway = 0
    return reason
  }

  /** Records that endpoint `key` was ejected; returns how long the ejection lasts (ms). */
  ejected (key: string): number {
    if (this.#options === undefined) return this.#passiveMs
    const c = this.#counters.get(key) ?? { errors: 0, gateway: 0, ejections: 0 }
    c.ejections++
    this.#counters.set(key, c)
    return this.#options.baseEjectionTimeMs * c.ejections
  }

  /** Returns how many of `total` endpoints may be ejected at once (at least one). */
  maxEjected (total: number): number {
    const percent = this.#options?.maxEjectionPercent ?? PASSIVE_MAX_EJECTION_PERCENT
    return Math.max(1, Math.floor(total * percent / 100))
  }
}
