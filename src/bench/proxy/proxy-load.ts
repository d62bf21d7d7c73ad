/**
 * The load generator of `bench proxy`: autocannon's programmatic API against a
 * loopback HTTP frontend for one slice of time, returning what the report needs per slice.
 */
import { createRequire } from 'node:module'
import type { EventEmitter } from 'node:events'

/** The part of autocannon's result this benchmark reads. */
interface AutocannonResult {
  requests: { total: number }
  non2xx: number
  errors: number
  timeouts: number
}

interface AutocannonInstance extends EventEmitter {
  stop: () => void
}

interface Autocannon {
  (opts: Record<string, unknown>, cb: (err: Error | null, result: AutocannonResult) => void): AutocannonInstance
  track: (instance: AutocannonInstance, opts: Record<string, unknown>) => void
}

// autocannon ships no type declarations: load it through require and type the part we use.
const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon

/** What one slice of load measured. */
export interface LoadSlice {
  /** Completed responses (any status). */
  requests: number
  non2xx: number
  /** Connection errors and timeouts. */
  errors: number
  /** Wall time of the slice, ms. */
  durationMs: number
  /** Response times of 2xx responses, ms (autocannon's measure), for merged percentiles. */
  latencies: number[]
}

/** Options of {@link runLoad}. */
export interface LoadOptions {
  /** `http://127.0.0.1:PORT/`. */
  url: string
  connections: number
  durationMs: number
  /** Draw autocannon's progress bar on stderr (only sensible on a TTY). */
  progressBar: boolean
  /** Shown in the progress bar. */
  title: string
  /** Paths to cycle through, one per request (mixed traffic); default `/` from `url`. */
  paths?: readonly string[]
}

/**
 * Loads `url` with `connections` keep-alive connections for `durationMs` and resolves with the
 * slice's counts. autocannon ends a run at its next sample tick, so the tick is 100 ms: slices
 * of a few hundred ms then stop on time.
 */
export async function runLoad (opts: LoadOptions): Promise<LoadSlice> {
  const latencies: number[] = []
  const started = performance.now()
  let instance: AutocannonInstance | undefined
  const result = await new Promise<AutocannonResult>((resolve, reject) => {
    instance = autocannon({
      url: opts.url,
      connections: opts.connections,
      duration: opts.durationMs / 1000,
      sampleInt: 100,
      title: opts.title,
      ...(opts.paths === undefined ? {} : { requests: opts.paths.map((path) => ({ method: 'GET', path })) })
    }, (err, res) => { if (err !== null) reject(err); else resolve(res) })
    instance.on('response', (_client: unknown, statusCode: number, _bytes: number, responseTime: number) => {
      if (statusCode >= 200 && statusCode < 300) latencies.push(responseTime)
    })
    if (opts.progressBar) {
      autocannon.track(instance, { outputStream: process.stderr, renderProgressBar: true, renderResultsTable: false, renderLatencyTable: false })
    }
  })
  instance?.removeAllListeners('response')
  return {
    requests: result.requests.total,
    non2xx: result.non2xx,
    errors: result.errors,
    durationMs: performance.now() - started,
    latencies
  }
}
