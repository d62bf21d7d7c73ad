/**
 * The targets sets for `bench proxy`, checked against the ratios a run measured.
 */
import { ratio } from './report.ts'
import type { ProxyRun, TargetCheck } from './report.ts'

function check (name: string, rule: string, value: number, met: boolean): TargetCheck {
  return { name, rule, value, met }
}

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
  for (const [mode, limit] of [['fresh', 0.85], ['pooled', 1.0]] as const) {
    const run = runs.find((r) => r.mode === mode && r.workers === fewest)
    if (run === undefined || !cpuKnown(run)) continue
    const value = run.ratio.cpuPerRequest
    const shown = limit.toFixed(2).replace(/0$/, '')
    // A ratio of 0 means a side measured nothing: that is no success.
    out.push(check(`proxy ${mode} cpu ratio <= ${shown}`, `ratio <= ${shown}`, value, value > 0 && value <= limit))
  }
  const first = workers[0]
  const base = runs.find((r) => r.mode === 'fresh' && r.workers === first)
  if (first !== undefined && base !== undefined) {
    for (const n of workers.slice(1)) {
      const run = runs.find((r) => r.mode === 'fresh' && r.workers === n)
      if (run === undefined) continue
      const value = ratio(run.subject.requestsPerSecond, base.subject.requestsPerSecond)
      out.push(check(`workers ${n}/${first} handshakes-per-second ratio >= 1.6`, 'ratio >= 1.6', value, value >= 1.6))
    }
  }
  return out
}
