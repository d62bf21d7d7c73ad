/**
 * Judges a soak run's samples: does memory (or the descriptor count) keep growing after the
 * warm-up? Pure functions over the samples, so the verdict is testable without minutes of load.
 */
import type { SoakResult, SoakSample, TargetCheck } from '../report-model.ts'
import { RSS_LIMIT_MB } from '../proxy/proxy-targets.ts'

/** RSS may rise at most this much per minute after warm-up (least-squares slope), KiB. */
export const RSS_SLOPE_LIMIT_KB_PER_MINUTE = 1024
/** Open descriptors may end at most this many above the end of warm-up (connections in flight). */
export const FD_GROWTH_LIMIT = 64

/** Returns the least-squares slope of `y` over `x` (0 for fewer than two distinct x). */
export function slope (points: ReadonlyArray<readonly [number, number]>): number {
  const n = points.length
  if (n < 2) return 0
  const mx = points.reduce((s, [x]) => s + x, 0) / n
  const my = points.reduce((s, [, y]) => s + y, 0) / n
  let num = 0
  let den = 0
  for (const [x, y] of points) { num += (x - mx) * (y - my); den += (x - mx) ** 2 }
  return den === 0 ? 0 : num / den
}

/** Returns the growth figures of {@link SoakResult} from the samples and the warm-up length. */
export function analyseSoak (samples: readonly SoakSample[], warmupMs: number): Pick<SoakResult, 'rssSlopeKbPerMinute' | 'rssGrowthKb' | 'maxRssKb' | 'fdsGrowth'> {
  const after = samples.filter((s) => s.atSeconds * 1000 >= warmupMs)
  const base = after[0]
  return {
    rssSlopeKbPerMinute: slope(after.map((s) => [s.atSeconds / 60, s.rssKb] as const)),
    rssGrowthKb: base === undefined ? 0 : Math.max(...after.map((s) => s.rssKb)) - base.rssKb,
    maxRssKb: Math.max(0, ...samples.map((s) => s.rssKb)),
    fdsGrowth: base === undefined ? 0 : (after[after.length - 1]?.fds ?? base.fds) - base.fds
  }
}

/**
 * Returns the soak's checks: RSS slope after warm-up <= 1 MiB/min (memory does not keep
 * growing), descriptors after warm-up grow by at most 64, the largest RSS of the process tree
 * <= 120 MiB, and no failed request. With fewer than three samples after warm-up there is no
 * slope to judge, and that check fails (a soak too short to say anything is no pass).
 */
export function soakTargets (r: SoakResult): TargetCheck[] {
  const after = r.samples.filter((s) => s.atSeconds * 1000 >= r.warmupMs).length
  const check = (name: string, rule: string, value: number, met: boolean, measures: string, unit: string): TargetCheck => ({ name, rule, value, met, measures, unit })
  return [
    check(`soak rss slope after warm-up <= ${RSS_SLOPE_LIMIT_KB_PER_MINUTE} KiB/min`, `KiB/min <= ${RSS_SLOPE_LIMIT_KB_PER_MINUTE} over >= 3 samples`,
      r.rssSlopeKbPerMinute, after >= 3 && r.rssSlopeKbPerMinute <= RSS_SLOPE_LIMIT_KB_PER_MINUTE,
      'growth of the proxy\'s resident memory after warm-up (least-squares slope over at least 3 samples)', 'KiB/min'),
    check(`soak open fds growth after warm-up <= ${FD_GROWTH_LIMIT}`, `fds <= ${FD_GROWTH_LIMIT}`, r.fdsGrowth, r.fdsGrowth <= FD_GROWTH_LIMIT,
      'open file descriptors of the proxy at the end minus at the end of warm-up', 'fds'),
    check(`soak max rss <= ${RSS_LIMIT_MB} MiB`, `MiB <= ${RSS_LIMIT_MB}`, r.maxRssKb / 1024, r.maxRssKb / 1024 <= RSS_LIMIT_MB,
      'largest resident memory of the proxy\'s process tree in any sample', 'MiB'),
    check('soak failed requests = 0', 'non-2xx + errors = 0', r.non2xx + r.errors, r.non2xx + r.errors === 0,
      'requests answered with a non-2xx status or failed', 'requests')
  ]
}
