import { BACKOFF_FACTOR, BACKOFF_INITIAL_MS, BACKOFF_JITTER, BACKOFF_MAX_MS } from '../defaults.ts'
/** Options of {@link Backoff}. */
export interface BackoffOptions {
  /** First delay in ms (default 1000). */
  initialMs?: number
  /** Largest delay in ms, jitter included (default 300 000 = the GCE metadata poll interval). */
  maxMs?: number
  /** Growth per failed attempt (default 2). */
  factor?: number
  /** Fraction of the delay that is randomised, 0..1 (default 0.2: delay × [0.8, 1.2)). */
  jitter?: number
  /** Uniform random number in [0, 1); injected so tests are deterministic (default Math.random). */
  random?: () => number
}

/**
 * Exponential back-off with jitter, capped. Jitter spreads retries of many proxies that failed
 * together (a metadata server restart) so they do not all come back in the same instant.
 */
export class Backoff {
  readonly #initialMs: number
  readonly #maxMs: number
  readonly #factor: number
  readonly #jitter: number
  readonly #random: () => number
  #attempt = 0

  constructor (options: BackoffOptions = {}) {
    this.#initialMs = Math.max(0, options.initialMs ?? BACKOFF_INITIAL_MS)
    this.#maxMs = Math.max(this.#initialMs, options.maxMs ?? BACKOFF_MAX_MS)
    this.#factor = Math.max(1, options.factor ?? BACKOFF_FACTOR)
    this.#jitter = Math.min(1, Math.max(0, options.jitter ?? BACKOFF_JITTER))
    this.#random = options.random ?? Math.random
  }

  /** Number of delays handed out since the last {@link reset}. */
  get attempts (): number { return this.#attempt }

  /** Returns the delay before the next retry in ms and counts the attempt. */
  next (): number {
    const base = Math.min(this.#maxMs, this.#initialMs * this.#factor ** this.#attempt)
    this.#attempt++
    const spread = base * this.#jitter
    const delay = base - spread + 2 * spread * this.#random()
    return Math.round(Math.min(this.#maxMs, Math.max(0, delay)))
  }

  /** Starts over from the initial delay (call after a success). */
  reset (): void {
    this.#attempt = 0
  }
}
