// Test support only.
import { systemClock, type Clock, type TimerHandle } from '../../internal/clock.ts'

/**
 * A clock that delegates to another (the system clock by default) and counts the timers
 * still pending, so a test can prove that a stopped source left no timer behind.
 */
export class TrackingClock implements Clock {
  readonly #inner: Clock
  readonly #live = new Set<TimerHandle>()

  constructor (inner: Clock = systemClock) {
    this.#inner = inner
  }

  now (): number { return this.#inner.now() }

  setTimeout (fn: () => void, ms: number): TimerHandle {
    let handle: TimerHandle | undefined
    const inner = this.#inner.setTimeout(() => {
      if (handle !== undefined) this.#live.delete(handle)
      fn()
    }, ms)
    handle = inner
    this.#live.add(inner)
    return inner
  }

  clearTimeout (handle: TimerHandle): void {
    this.#live.delete(handle)
    this.#inner.clearTimeout(handle)
  }

  /** Timers set and neither fired nor cleared. */
  get pending (): number { return this.#live.size }
}
