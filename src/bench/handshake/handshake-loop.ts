import { percentiles } from '../report-model.ts'
import type { HandshakeSample, Negotiated } from '../report-model.ts'
import { BENCH_DRAIN_WATCHDOG_MS } from '../../defaults.ts'

/** A finished handshake, as the measuring loop sees it. */
export interface Completed {
  resumed: boolean
  /** Reads protocol, cipher and group (called once per side: the reads are not free). */
  negotiated (): Negotiated
  /** Closes the connection (close_notify, FIN) and resolves once it is closed. */
  close (): Promise<void>
}

/** One side of a cell: the spiffe-lb connector (subject) or bare `tls.connect` (baseline). */
export interface Side {
  /** Opens one connection; resolves once it is usable (for the subject: verified). */
  handshake (): Promise<Completed>
  /** Destroys connections still in their handshake (the drain watchdog fired). */
  abort? (): void
}

const MAX_ERROR_SAMPLES = 5

/** Accumulates one side's measurements over its slices. */
export class SideRecorder {
  handshakes = 0
  errors = 0
  resumed = 0
  cpuMicros = 0
  durationMs = 0
  readonly latencies: number[] = []
  readonly errorSamples: string[] = []
  negotiated: Negotiated | undefined
  /** Handshakes, resumptions and errors including the warm-up (what the target saw). */
  readonly total = { handshakes: 0, resumed: 0, errors: 0 }

  /** Records a success; `measured` false during the warm-up. */
  ok (c: Completed, latencyMs: number, measured: boolean): void {
    this.total.handshakes++
    if (c.resumed) this.total.resumed++
    // Read once, warm-up included, so a resumed cell still shows the group its session used.
    this.negotiated ??= c.negotiated()
    if (!measured) return
    this.handshakes++
    if (c.resumed) this.resumed++
    this.latencies.push(latencyMs)
  }

  /** Records a failure; warm-up failures are counted in `total` and sampled too. */
  error (err: unknown, measured: boolean): void {
    this.total.errors++
    if (measured) this.errors++
    const message = err instanceof Error ? `${(err as Error & { code?: string }).code ?? err.name}: ${err.message}` : String(err)
    if (this.errorSamples.length < MAX_ERROR_SAMPLES && !this.errorSamples.includes(message)) this.errorSamples.push(message)
  }

  /** Returns the report's view of this side. */
  sample (): HandshakeSample {
    return {
      handshakes: this.handshakes,
      errors: this.errors,
      durationMs: this.durationMs,
      handshakesPerSecond: this.durationMs === 0 ? 0 : this.handshakes / (this.durationMs / 1000),
      cpuMicrosPerHandshake: this.handshakes === 0 ? 0 : this.cpuMicros / this.handshakes,
      latencyMs: percentiles(this.latencies),
      resumedFraction: this.handshakes === 0 ? 0 : this.resumed / this.handshakes,
      negotiated: this.negotiated,
      errorSamples: [...this.errorSamples]
    }
  }
}

/** Options of {@link runSlice}. */
export interface SliceOptions {
  concurrency: number
  durationMs: number
  /** False for the warm-up: results are counted in `total` only, no time or CPU. */
  measured: boolean
  signal?: AbortSignal | undefined
}

/**
 * Runs `concurrency` handshake loops of `side` for `durationMs`, then waits for the handshakes
 * and closes still in flight, so no cost of this slice bleeds into the next one (which may be
 * the other side's). CPU is `process.cpuUsage()` (user + system) across the whole slice.
 */
export async function runSlice (side: Side, recorder: SideRecorder, options: SliceOptions): Promise<void> {
  const closes = new Set<Promise<void>>()
  const cpu0 = process.cpuUsage()
  const t0 = performance.now()
  const deadline = t0 + options.durationMs
  const loop = async (): Promise<void> => {
    while (performance.now() < deadline && options.signal?.aborted !== true) {
      const started = performance.now()
      try {
        const c = await side.handshake()
        recorder.ok(c, performance.now() - started, options.measured)
        const closing = c.close().finally(() => closes.delete(closing))
        closes.add(closing)
      } catch (err) {
        recorder.error(err, options.measured)
      }
    }
  }
  const drained = (async () => {
    await Promise.all(Array.from({ length: options.concurrency }, loop))
    while (closes.size > 0) await Promise.all([...closes])
  })()
  let watchdog: NodeJS.Timeout | undefined
  await Promise.race([drained, new Promise<void>((resolve) => {
    watchdog = setTimeout(() => { side.abort?.(); resolve() }, options.durationMs + BENCH_DRAIN_WATCHDOG_MS)
  })])
  clearTimeout(watchdog)
  await drained
  if (!options.measured) return
  const cpu = process.cpuUsage(cpu0)
  recorder.cpuMicros += cpu.user + cpu.system
  recorder.durationMs += performance.now() - t0
}

/** Options of {@link runInterleaved}. */
export interface InterleaveOptions {
  concurrency: number
  /** Warm-up, split evenly between the sides (subject first). */
  warmupMs: number
  /** Measured time, split evenly between the sides. */
  durationMs: number
  sliceMs: number
  signal?: AbortSignal | undefined
}

/**
 * Warms both sides up, then measures them in alternating slices (subject, baseline, baseline,
 * subject, …)
 * of about `sliceMs`, so machine noise hits both alike. Returns both recorders.
 */
export async function runInterleaved (subject: Side, baseline: Side, options: InterleaveOptions): Promise<{ subject: SideRecorder, baseline: SideRecorder }> {
  const recorders = { subject: new SideRecorder(), baseline: new SideRecorder() }
  const { concurrency, signal } = options
  if (options.warmupMs > 0) {
    await runSlice(subject, recorders.subject, { concurrency, durationMs: options.warmupMs / 2, measured: false, signal })
    await runSlice(baseline, recorders.baseline, { concurrency, durationMs: options.warmupMs / 2, measured: false, signal })
  }
  const perSide = options.durationMs / 2
  const slices = Math.max(1, Math.round(perSide / options.sliceMs))
  const slice = { concurrency, durationMs: perSide / slices, measured: true, signal }
  for (let i = 0; i < slices && signal?.aborted !== true; i++) {
    // ABBA order: neither side always runs first after the other (caches, CPU frequency).
    if (i % 2 === 0) {
      await runSlice(subject, recorders.subject, slice)
      await runSlice(baseline, recorders.baseline, slice)
    } else {
      await runSlice(baseline, recorders.baseline, slice)
      await runSlice(subject, recorders.subject, slice)
    }
  }
  return recorders
}
