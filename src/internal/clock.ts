/**
 * Time as an injected dependency, so rotation, expiry and back-off logic can be
 * tested by moving a manual clock days ahead in milliseconds.
 */
export interface Clock {
  /** Milliseconds since the epoch. */
  now (): number
  setTimeout (fn: () => void, ms: number): TimerHandle
  clearTimeout (handle: TimerHandle): void
}

/** An opaque timer handle; `unref` lets a pending timer not keep the process alive. */
export interface TimerHandle {
  unref (): void
}

/** Returns the real clock backed by `Date.now` and the global timers. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, Math.max(0, Math.min(ms, 2 ** 31 - 1))),
  clearTimeout: (handle) => { clearTimeout(handle as ReturnType<typeof setTimeout>) }
}

interface PendingTimer { at: number, seq: number, fn: () => void, handle: TimerHandle }

/** A clock that only moves when told to; `advance` runs due timers in time order. */
export class ManualClock implements Clock {
  #now: number
  #seq = 0
  #timers: PendingTimer[] = []

  constructor (start: number | Date = Date.UTC(2026, 0, 1)) {
    this.#now = typeof start === 'number' ? start : start.getTime()
  }

  now (): number { return this.#now }

  setTimeout (fn: () => void, ms: number): TimerHandle {
    const handle: TimerHandle = { unref: () => {} }
    this.#timers.push({ at: this.#now + Math.max(0, ms), seq: this.#seq++, fn, handle })
    return handle
  }

  clearTimeout (handle: TimerHandle): void {
    this.#timers = this.#timers.filter((t) => t.handle !== handle)
  }

  /** Number of timers not yet fired. */
  get pending (): number { return this.#timers.length }

  /** Moves time forward by `ms`, firing every timer that falls due, each at its own time. */
  advance (ms: number): void {
    const end = this.#now + ms
    for (;;) {
      const next = this.#timers
        .filter((t) => t.at <= end)
        .sort((a, b) => a.at - b.at || a.seq - b.seq)[0]
      if (next === undefined) break
      this.#timers = this.#timers.filter((t) => t !== next)
      this.#now = Math.max(this.#now, next.at)
      next.fn()
    }
    this.#now = end
  }

  /** Sets the time without firing timers (for "the machine slept" cases). */
  set (ms: number | Date): void {
    this.#now = typeof ms === 'number' ? ms : ms.getTime()
  }
}
