/**
 * The admin dashboard's traffic history: every interval it reads the admin listener's own
 * metrics exposition, turns the counters' growth into rates (requests/s, p50/p99 latency,
 * handshakes/s full and resumed, errors/s by code, and per backend endpoint) and keeps the
 * points of the last window. It runs only while a dashboard is open (and one window longer),
 * off the data path.
 */
import type { Clock, TimerHandle } from '../internal/clock.ts'
import { METRIC_NAMES } from './metrics.ts'
import { parsePromText, type PromSample } from './prometheus-text.ts'

/** One point of the traffic charts (rates per second over the interval that ends at `t`). */
export interface TrafficPoint {
  /** End of the interval, ms since the epoch. */
  t: number
  rps: number
  /** Request latency quantiles in ms over the interval; null without requests. */
  p50: number | null
  p99: number | null
  handshakesFull: number
  handshakesResumed: number
  /** Errors/s by code: an HTTP status ≥ 500 the proxy answered, or a handshake's reject code. */
  errors: Record<string, number>
}

/** One backend endpoint's rates over the last interval. */
export interface BackendRates { service: string, endpoint: string, rps: number, errorsPerSecond: number }

/** What an open dashboard receives on each sample. */
export interface TrafficSample {
  point: TrafficPoint
  backends: BackendRates[]
  /** Circuit-breaker refusals/s by backend service. */
  breakerTrips: Record<string, number>
}

interface Totals {
  at: number
  requests: Map<string, number>
  buckets: Map<number, number>
  handshakes: Map<string, number>
  breakers: Map<string, number>
}

const KEY = '\u0000'

/** Samples `read` (the Prometheus text) every `intervalMs` and keeps `windowMs` of points. */
export class TrafficSampler {
  readonly #read: () => Promise<string>
  readonly #clock: Clock
  readonly #intervalMs: number
  readonly #keep: number
  readonly #windowMs: number
  #wantedAt = 0
  readonly #points: TrafficPoint[] = []
  readonly #listeners = new Set<(s: TrafficSample) => void>()
  #last: Totals | undefined
  #timer: TimerHandle | undefined
  #running = false

  constructor (read: () => Promise<string>, options: { clock: Clock, intervalMs: number, windowMs: number }) {
    this.#read = read
    this.#clock = options.clock
    this.#intervalMs = options.intervalMs
    this.#keep = Math.max(1, Math.ceil(options.windowMs / options.intervalMs))
    this.#windowMs = options.windowMs
  }

  get intervalMs (): number { return this.#intervalMs }

  /** Returns the kept points, oldest first. */
  history (): TrafficPoint[] { return [...this.#points] }

  /**
   * Starts sampling (a no-op when running) and notes that a page wants it: with no page
   * listening for a whole window it stops again and forgets its points, which would be stale.
   */
  start (): void {
    this.#wantedAt = this.#clock.now()
    if (this.#running) return
    this.#running = true
    void this.#tick()
  }

  stop (): void {
    this.#running = false
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer)
    this.#timer = undefined
  }

  /** Calls `listener` with each new sample; returns the unsubscribe function. */
  onSample (listener: (s: TrafficSample) => void): () => void {
    this.#listeners.add(listener)
    return () => { this.#listeners.delete(listener) }
  }

  async #tick (): Promise<void> {
    try {
      const totals = readTotals(parsePromText(await this.#read()), this.#clock.now())
      const before = this.#last
      this.#last = totals
      if (before !== undefined && totals.at > before.at) this.#publish(rates(before, totals))
    } catch {
      // A scrape that fails (a cluster worker not answering) leaves a gap; /metrics says why.
    }
    if (this.#listeners.size > 0) this.#wantedAt = this.#clock.now()
    else if (this.#clock.now() - this.#wantedAt > this.#windowMs) {
      this.stop()
      this.#points.length = 0
      this.#last = undefined
    }
    if (!this.#running) return
    this.#timer = this.#clock.setTimeout(() => { void this.#tick() }, this.#intervalMs)
    this.#timer.unref()
  }

  #publish (sample: TrafficSample): void {
    this.#points.push(sample.point)
    if (this.#points.length > this.#keep) this.#points.splice(0, this.#points.length - this.#keep)
    for (const l of this.#listeners) l(sample)
  }
}

function readTotals (samples: readonly PromSample[], at: number): Totals {
  const t: Totals = { at, requests: new Map(), buckets: new Map(), handshakes: new Map(), breakers: new Map() }
  const add = (m: Map<string, number>, k: string, v: number): void => { m.set(k, (m.get(k) ?? 0) + v) }
  for (const s of samples) {
    const l = s.labels
    if (s.name === METRIC_NAMES.requests) add(t.requests, [l.service, l.endpoint, l.code].join(KEY), s.value)
    else if (s.name === `${METRIC_NAMES.requestDuration}_bucket`) {
      const le = l.le === '+Inf' ? Infinity : Number(l.le)
      t.buckets.set(le, (t.buckets.get(le) ?? 0) + s.value)
    } else if (s.name === METRIC_NAMES.backendHandshakes) add(t.handshakes, l.result === 'ok' ? `ok${KEY}${l.resumed ?? ''}` : l.result ?? '', s.value)
    else if (s.name === METRIC_NAMES.circuitBreakerTrips) add(t.breakers, l.service ?? '', s.value)
  }
  return t
}

/** Returns the growth of `m` since `before` (a counter that went back, a restarted worker, counts as 0). */
function growth (before: Map<string, number>, m: Map<string, number>): Map<string, number> {
  const out = new Map<string, number>()
  for (const [k, v] of m) out.set(k, Math.max(0, v - (before.get(k) ?? 0)))
  return out
}

function rates (before: Totals, now: Totals): TrafficSample {
  const secs = (now.at - before.at) / 1000
  const per = (n: number): number => Math.round((n / secs) * 100) / 100
  const requests = growth(before.requests, now.requests)
  const handshakes = growth(before.handshakes, now.handshakes)
  const errors: Record<string, number> = {}
  const endpoints = new Map<string, BackendRates>()
  let total = 0
  for (const [k, n] of requests) {
    const [service = '', endpoint = '', code = ''] = k.split(KEY)
    total += n
    const failed = Number(code) >= 500
    if (failed && n > 0) errors[code] = (errors[code] ?? 0) + n
    if (endpoint === '') continue
    const e = endpoints.get(`${service}${KEY}${endpoint}`) ?? { service, endpoint, rps: 0, errorsPerSecond: 0 }
    e.rps += n
    if (failed) e.errorsPerSecond += n
    endpoints.set(`${service}${KEY}${endpoint}`, e)
  }
  let full = 0
  let resumed = 0
  for (const [k, n] of handshakes) {
    if (k === `ok${KEY}true`) resumed += n
    else if (k.startsWith(`ok${KEY}`)) full += n
    else if (n > 0) errors[k] = (errors[k] ?? 0) + n
  }
  const bucketGrowth = [...now.buckets].map(([le, v]): [number, number] => [le, Math.max(0, v - (before.buckets.get(le) ?? 0))]).sort((a, b) => a[0] - b[0])
  const breakerTrips: Record<string, number> = {}
  for (const [svc, n] of growth(before.breakers, now.breakers)) breakerTrips[svc] = per(n)
  return {
    point: {
      t: now.at,
      rps: per(total),
      p50: quantileMs(bucketGrowth, 0.5),
      p99: quantileMs(bucketGrowth, 0.99),
      handshakesFull: per(full),
      handshakesResumed: per(resumed),
      errors: Object.fromEntries(Object.entries(errors).map(([c, n]) => [c, per(n)]))
    },
    backends: [...endpoints.values()].map((e) => ({ ...e, rps: per(e.rps), errorsPerSecond: per(e.errorsPerSecond) })),
    breakerTrips
  }
}

/**
 * Returns the `q` quantile in ms of cumulative histogram buckets `[le seconds, count]` (sorted),
 * interpolated linearly inside its bucket as Prometheus' histogram_quantile does; null when empty.
 */
export function quantileMs (buckets: ReadonlyArray<readonly [number, number]>, q: number): number | null {
  const count = buckets.at(-1)?.[1] ?? 0
  if (count === 0) return null
  const rank = q * count
  let lower = 0
  let below = 0
  for (const [le, cumulative] of buckets) {
    if (cumulative >= rank) {
      if (le === Infinity) return Math.round(lower * 1000 * 100) / 100
      const inside = cumulative - below
      const at = inside === 0 ? le : lower + (le - lower) * ((rank - below) / inside)
      return Math.round(at * 1000 * 100) / 100
    }
    lower = le
    below = cumulative
  }
  return Math.round(lower * 1000 * 100) / 100
}
