import type { Clock, TimerHandle } from '../internal/clock.ts'

/**
 * Runs a source's refresh function one at a time, now or after a delay on the injected clock.
 * Triggers that arrive while a run is in flight are folded into one follow-up run, so a burst
 * of file events or a timer racing a manual refresh never reads credentials concurrently.
 */
export class RefreshLoop {
  readonly #clock: Clock
  readonly #run: () => Promise<void>
  #timer: TimerHandle | undefined
  #running: Promise<void> | undefined
  #queued: Promise<void> | undefined
  #stopped = false

  constructor (clock: Clock, run: () => Promise<void>) {
    this.#clock = clock
    this.#run = run
  }

  /** True after {@link stop}. */
  get stopped (): boolean { return this.#stopped }

  /** True while a timer is pending. */
  get scheduled (): boolean { return this.#timer !== undefined }

  /** Runs after `delayMs`, replacing any pending timer. */
  schedule (delayMs: number): void {
    if (this.#stopped) return
    this.cancel()
    const handle = this.#clock.setTimeout(() => {
      if (this.#timer === handle) this.#timer = undefined
      this.trigger().catch(() => {})
    }, delayMs)
    handle.unref()
    this.#timer = handle
  }

  /** Clears the pending timer, if any. */
  cancel (): void {
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer)
    this.#timer = undefined
  }

  /** Runs now, or right after the run in flight; resolves when that run finished. */
  trigger (): Promise<void> {
    if (this.#stopped) return Promise.resolve()
    if (this.#queued !== undefined) return this.#queued
    if (this.#running === undefined) return this.#start()
    const queued = this.#running.then(() => {
      this.#queued = undefined
      return this.#stopped ? undefined : this.#start()
    })
    this.#queued = queued
    return queued
  }

  #start (): Promise<void> {
    this.cancel()
    const running = this.#run().catch(() => {}).finally(() => {
      if (this.#running === running) this.#running = undefined
    })
    this.#running = running
    return running
  }

  /** Stops: clears the timer and waits for a run in flight; later triggers do nothing. */
  async stop (): Promise<void> {
    this.#stopped = true
    this.cancel()
    await this.#queued
    await this.#running
    this.cancel()
  }
}
