/**
 * The targets sets for `bench proxy`, checked against the ratios a run measured.
 */
import { ratio } from '../report-model.ts'
import type { ProxyRun, TargetCheck } from '../report-model.ts'
import { PER_REQUEST_EXTRAS, PER_REQUEST_EXTRAS_LIMIT_PERCENT } from './cpu-profile.ts'

function check (name: string, rule: string, value: number, met: boolean, measures: string, unit: string): TargetCheck {
  return { name, rule, value, met, measures, unit }
}

/** The limits relative to the minimal undici forwarder (spiffe-lb CPU per request / its, same run). */
export const UNDICI_CPU_LIMITS = { fresh: 0.85, pooled: 1.0 } as const

/** How each mode loads the backend, in words. */
export const MODE_WORDS = {
  fresh: 'fresh mode (a full backend TLS handshake per request)',
  resumed: 'resumed mode (a new backend connection per request, TLS session resumed)',
  pooled: 'pooled mode (keep-alive backend connections)'
} as const

/**
 * Returns the checks a set of runs allows: `proxy fresh cpu ratio <= 0.85` and `proxy pooled cpu
 * ratio <= 1.0` (from the runs with the fewest workers, when the proxy's CPU was measured), and,
 * per additional worker count N over the first one M, `workers N/M handshakes-per-second ratio
 * >= 1.6` (the proxy's requests/s in `fresh` mode, one full backend handshake per request).
 */
export function proxyTargets (runs: readonly ProxyRun[], workers: readonly number[]): TargetCheck[] {
  const out: TargetCheck[] = []
  const fewest = Math.min(...workers)
  const cpuKnown = (r: ProxyRun): boolean => !(r.subject.unmeasured ?? []).includes('cpu')
  for (const [mode, limit] of Object.entries(UNDICI_CPU_LIMITS) as Array<[keyof typeof UNDICI_CPU_LIMITS, number]>) {
    const run = runs.find((r) => r.mode === mode && r.workers === fewest)
    if (run === undefined || !cpuKnown(run)) continue
    const value = run.ratio.cpuPerRequest
    const shown = limit.toFixed(2).replace(/0$/, '')
    // A ratio of 0 means a side measured nothing: that is no success.
    out.push(check(`proxy ${mode} cpu ratio <= ${shown}`, `ratio <= ${shown}`, value, value > 0 && value <= limit,
      `spiffe-lb's CPU per request ÷ the minimal undici forwarder's, ${MODE_WORDS[mode]}`, '×'))
  }
  out.push(...peerTargets(runs, fewest))
  const first = workers[0]
  const base = runs.find((r) => r.mode === 'fresh' && r.workers === first)
  if (first !== undefined && base !== undefined) {
    for (const n of workers.slice(1)) {
      const run = runs.find((r) => r.mode === 'fresh' && r.workers === n)
      if (run === undefined) continue
      const value = ratio(run.subject.requestsPerSecond, base.subject.requestsPerSecond)
      out.push(check(`workers ${n}/${first} handshakes-per-second ratio >= 1.6`, 'ratio >= 1.6', value, value >= 1.6,
        `requests per second with ${n} workers ÷ with ${first}, fresh mode (one backend handshake per request)`, '×'))
    }
  }
  return out
}

/** The limits relative to nginx per mode (spiffe-lb CPU per request / nginx's, same run, 1 worker each). */
export const NGINX_CPU_LIMITS = { fresh: 1.20, resumed: 1.50, pooled: 1.50 } as const
/** A resumed request may cost at most this fraction of a fresh one (spiffe-lb, same run). */
export const RESUMED_OVER_FRESH_LIMIT = 0.6
/** RSS of one `serve` process under load, MiB. */
export const RSS_LIMIT_MB = 100

/**
 * Returns the checks against the peers: `proxy MODE cpu / nginx <= L` per mode (limits in
 * {@link NGINX_CPU_LIMITS}), `resumed / fresh cpu <= 0.6`, the RSS of one serve process
 * under load <= 100 MiB, and, when the pooled run was profiled, the access log and metrics
 * together <= 10 % of serve's busy time, from the runs with `workers` workers.
 */
export function peerTargets (runs: readonly ProxyRun[], workers: number): TargetCheck[] {
  const out: TargetCheck[] = []
  const at = runs.filter((r) => r.workers === workers && !(r.subject.unmeasured ?? []).includes('cpu'))
  for (const r of at) {
    const nginx = r.peers?.find((p) => p.name === 'nginx')
    if (nginx === undefined) continue
    const limit = NGINX_CPU_LIMITS[r.mode]
    const shown = limit.toFixed(2)
    out.push(check(`proxy ${r.mode} cpu / nginx <= ${shown}`, `ratio <= ${shown}`, nginx.cpuRatio, nginx.cpuRatio > 0 && nginx.cpuRatio <= limit,
      `spiffe-lb's CPU per request ÷ nginx's (same run, 1 worker each), ${MODE_WORDS[r.mode]}`, '×'))
  }
  const fresh = at.find((r) => r.mode === 'fresh')
  const resumed = at.find((r) => r.mode === 'resumed')
  if (fresh !== undefined && resumed !== undefined) {
    const value = ratio(resumed.subject.cpuMicrosPerRequest, fresh.subject.cpuMicrosPerRequest)
    out.push(check(`proxy resumed / fresh cpu <= ${RESUMED_OVER_FRESH_LIMIT}`, `ratio <= ${RESUMED_OVER_FRESH_LIMIT}`, value, value > 0 && value <= RESUMED_OVER_FRESH_LIMIT,
      'spiffe-lb\'s CPU per request in resumed mode ÷ in fresh mode (what session resumption saves)', '×'))
  }
  const rss = Math.max(0, ...at.map((r) => r.subject.maxProcessRssKb ?? 0)) / 1024
  if (rss > 0) {
    out.push(check(`proxy rss per process under load <= ${RSS_LIMIT_MB} MiB`, `MiB <= ${RSS_LIMIT_MB}`, rss, rss <= RSS_LIMIT_MB,
      'resident memory of the largest spiffe-lb serve process, read right after each load slice (all modes)', 'MiB'))
  }
  const profile = at.find((r) => r.mode === 'pooled' && r.profile !== undefined)?.profile
  if (profile !== undefined && profile.error === undefined) {
    const value = profile.parts.filter((p) => PER_REQUEST_EXTRAS.includes(p.name)).reduce((n, p) => n + p.percent, 0)
    const limit = PER_REQUEST_EXTRAS_LIMIT_PERCENT
    // No busy sample means nothing was measured: that is no success.
    out.push(check(`proxy pooled access log + metrics <= ${limit} %`, `percent <= ${limit}`, value, profile.busyMs > 0 && value <= limit,
      `the access log's and the metrics' share of spiffe-lb serve's busy time, pooled mode (V8 CPU profile of a separate serve under the same load)`, '%'))
  }
  return out
}
