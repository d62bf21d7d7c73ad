/**
 * Options of `spiffe-lb bench soak`: how long, how often to rotate the proxy's SVID and to
 * sample its memory. Parsed from the command line and checked before anything starts.
 */
import { badOption, parseDurationFlag } from '../flags.ts'
import { DAY_MS, MINUTE_MS, SECOND_MS } from '../../defaults.ts'

/** Options of {@link runSoakBench}; every field has a default. */
export interface SoakOptions {
  /** Total load time, ms; default 10 min (30 s with `quick`). */
  durationMs?: number
  /** Load before growth is judged, ms; default 1 min (10 s with `quick`). */
  warmupMs?: number
  /** A credential rotation every this many ms; default 30 s (5 s with `quick`). */
  rotateEveryMs?: number
  /** RSS and descriptors sampled every this many ms; default 5 s (1 s with `quick`). */
  sampleEveryMs?: number
  /** autocannon connections; default 16. */
  connections?: number
  quick?: boolean
}

/** The options with defaults applied. */
export type ResolvedSoakOptions = Required<Omit<SoakOptions, 'quick'>> & { quick: boolean }

/** Returns the options with defaults; throws `ERR_SPIFFE_BENCH_BAD_OPTION` naming the flag. */
export function resolveSoakOptions (o: SoakOptions): ResolvedSoakOptions {
  const quick = o.quick === true
  const r: ResolvedSoakOptions = {
    durationMs: o.durationMs ?? (quick ? 30_000 : 600_000),
    warmupMs: o.warmupMs ?? (quick ? 10 * SECOND_MS : MINUTE_MS),
    rotateEveryMs: o.rotateEveryMs ?? (quick ? 5_000 : 30_000),
    sampleEveryMs: o.sampleEveryMs ?? (quick ? 1_000 : 5_000),
    connections: o.connections ?? 16,
    quick
  }
  if (r.durationMs < 1000 || r.durationMs > DAY_MS) throw badOption('--duration', r.durationMs, 'must be from 1s to 24h')
  if (r.warmupMs >= r.durationMs) throw badOption('--warmup', r.warmupMs, 'must be shorter than --duration')
  if (r.sampleEveryMs < 100 || r.sampleEveryMs > r.durationMs) throw badOption('--sample-every', r.sampleEveryMs, 'must be from 100ms to --duration')
  if (r.rotateEveryMs < 500) throw badOption('--rotate-every', r.rotateEveryMs, 'must be at least 500ms')
  if (!Number.isInteger(r.connections) || r.connections < 1 || r.connections > 10_000) throw badOption('--connections', r.connections, 'must be an integer from 1 to 10000')
  return r
}

/** The flags of `bench soak` as commander hands them over. */
export interface SoakFlags { duration?: string, warmup?: string, rotateEvery?: string, sampleEvery?: string, connections?: string, quick?: boolean }

/** Returns {@link SoakOptions} from flags; throws `ERR_SPIFFE_BENCH_BAD_OPTION` naming the flag. */
export function parseSoakFlags (f: SoakFlags): SoakOptions {
  const o: SoakOptions = {}
  if (f.duration !== undefined) o.durationMs = parseDurationFlag('--duration', f.duration)
  if (f.warmup !== undefined) o.warmupMs = parseDurationFlag('--warmup', f.warmup)
  if (f.rotateEvery !== undefined) o.rotateEveryMs = parseDurationFlag('--rotate-every', f.rotateEvery)
  if (f.sampleEvery !== undefined) o.sampleEveryMs = parseDurationFlag('--sample-every', f.sampleEvery)
  if (f.connections !== undefined) {
    if (!/^\d+$/.test(f.connections)) throw badOption('--connections', f.connections, 'must be a whole number')
    o.connections = Number(f.connections)
  }
  if (f.quick === true) o.quick = true
  resolveSoakOptions(o)
  return o
}
