/**
 * Active health checks (config/schema.ts `healthCheck`): a `GET path` to every endpoint each
 * interval, over the endpoint's own pool and therefore the same (mTLS) connector as real
 * traffic, so a backend whose certificate stops verifying is ejected too.
 */
import type { Dispatcher } from 'undici'
import type { Clock, TimerHandle } from '../internal/clock.ts'
import type { Endpoint } from './endpoint.ts'
import type { HealthCheckOptions } from './types.ts'

/** Returns undefined when the endpoint answered 2xx in time, else why not (one line). */
export async function probe (endpoint: Endpoint, options: HealthCheckOptions, clock: Clock): Promise<string | undefined> {
  return await new Promise<string | undefined>((resolve) => {
    let status = 0
    let controller: Dispatcher.DispatchController | undefined
    let settled = false
    const settle = (verdict: string | undefined): void => {
      if (settled) return
      settled = true
      clock.clearTimeout(timer)
      resolve(verdict)
    }
    const timer = clock.setTimeout(() => {
      const err = new Error(`health check timed out after ${options.timeoutMs} ms`)
      settle(describeError(err))
      controller?.abort(err)
    }, options.timeoutMs)
    timer.unref()
    endpoint.pool.dispatch({
      method: 'GET',
      path: options.path,
      headers: ['host', endpoint.key, 'user-agent', 'spiffe-lb-health-check'],
      servername: endpoint.servername
    } as Dispatcher.DispatchOptions, {
      onRequestStart: (c) => { controller = c; if (settled) c.abort(new Error('health check already decided')) },
      onResponseStart: (_c, statusCode) => { status = statusCode },
      onResponseData: () => {},
      onResponseEnd: () => { settle(status >= 200 && status < 300 ? undefined : `health check answered ${status}`) },
      onResponseError: (_c, err) => { settle(describeError(err)) }
    })
  })
}

/** Returns `message (code)` of an error on one line. */
export function describeError (err: unknown): string {
  if (!(err instanceof Error)) return String(err).replace(/\s+/g, ' ')
  const code = (err as { code?: unknown }).code
  const msg = err.message.replace(/\s+/g, ' ').trim()
  return typeof code === 'string' ? `${msg} (${code})` : msg
}

/** Runs the checks of one service's endpoints on the clock until stopped. */
export class HealthChecker {
  readonly #endpoints: readonly Endpoint[]
  readonly #options: HealthCheckOptions
  readonly #clock: Clock
  readonly #timers = new Map<Endpoint, TimerHandle>()
  #stopped = true

  constructor (endpoints: readonly Endpoint[], options: HealthCheckOptions, clock: Clock) {
    this.#endpoints = endpoints
    this.#options = options
    this.#clock = clock
  }

  /** Starts checking: the first round at once, then every `intervalMs` per endpoint. */
  start (): void {
    if (!this.#stopped) return
    this.#stopped = false
    for (const e of this.#endpoints) this.#schedule(e, 0)
  }

  /** Stops the loop; results of checks still in flight are dropped. */
  stop (): void {
    this.#stopped = true
    for (const t of this.#timers.values()) this.#clock.clearTimeout(t)
    this.#timers.clear()
  }

  /** Checks every endpoint once now and records the results (tests, admin "check now"). */
  async checkNow (): Promise<void> {
    await Promise.all(this.#endpoints.map(async (e) => { await this.#checkOne(e, true) }))
  }

  async #checkOne (e: Endpoint, force = false): Promise<void> {
    const failure = await probe(e, this.#options, this.#clock)
    if (this.#stopped && !force) return
    e.recordCheck(failure === undefined, failure, {
      healthy: this.#options.healthyThreshold,
      unhealthy: this.#options.unhealthyThreshold
    })
  }

  #schedule (e: Endpoint, ms: number): void {
    const timer = this.#clock.setTimeout(() => {
      this.#timers.delete(e)
      if (this.#stopped) return
      void this.#checkOne(e).finally(() => {
        if (!this.#stopped) this.#schedule(e, this.#options.intervalMs)
      })
    }, ms)
    timer.unref()
    this.#timers.set(e, timer)
  }
}
