/**
 * A timer that is made once and re-armed with `refresh()` for each request,
 * instead of a new `setTimeout` (and a `clearTimeout`) per request: on a pooled connection
 * that allocation and the timer-list work were paid several times per request. Disarming
 * does not unschedule it; a firing while disarmed does nothing. It never keeps the process
 * alive.
 */
export class RearmableTimer {
  readonly #ms: number
  readonly #fire: () => void
  #timer: NodeJS.Timeout | undefined
  #armed = false

  /** `fire` runs once `ms` pass after the latest {@link arm} with no {@link disarm} since. */
  constructor (ms: number, fire: () => void) {
    this.#ms = ms
    this.#fire = fire
  }

  /** Starts the count again from now. */
  arm (): void {
    this.#armed = true
    if (this.#timer !== undefined) { this.#timer.refresh(); return }
    this.#timer = setTimeout(() => {
      if (!this.#armed) return
      this.#armed = false
      this.#fire()
    }, this.#ms).unref()
  }

  /** The count no longer matters (until the next {@link arm}). */
  disarm (): void {
    this.#armed = false
  }

  /** Clears the timer for good (the connection closed). */
  stop (): void {
    this.#armed = false
    clearTimeout(this.#timer)
  }
}
