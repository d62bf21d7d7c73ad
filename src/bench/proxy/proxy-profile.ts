/**
 * The profiled run of `bench proxy`: after the measured slices of pooled mode, one more `serve`
 * started with `--cpu-prof` takes the same load alone, so the report can show where a pooled
 * request's time goes (cpu-profile.ts) without the profiler's own cost in the measured figures.
 */
import { mkdtemp } from 'node:fs/promises'
import { join } from 'node:path'
import { profileBreakdown, readCpuProfile } from './cpu-profile.ts'
import { runLoad } from './proxy-load.ts'
import type { ResolvedProxyBenchOptions } from './proxy-options.ts'
import type { ProxyWorld } from './proxy-world.ts'
import type { ProfileBreakdown } from '../report-model.ts'
import { BENCH_CHILD_STOP_GRACE_MS } from '../../defaults.ts'

/**
 * Starts a profiled pooled `serve` (1 worker, HTTP/1.1 backend), warms it up, loads it for two
 * slices' time with the run's connections, stops it and returns the breakdown of its profile.
 * Never rejects: a failure is returned as a breakdown with `error` and no parts.
 */
export async function profilePooledServe (world: ProxyWorld, o: ResolvedProxyBenchOptions, progress: (line: string) => void): Promise<ProfileBreakdown> {
  try {
    const dir = await mkdtemp(join(world.dir, 'cpu-profile-'))
    const serve = await world.startProxy('pooled', 1, 'h1', dir)
    const url = `http://${serve.address}/`
    try {
      const load = async (durationMs: number, what: string): Promise<void> => {
        await runLoad({ url, connections: o.connections, durationMs, progressBar: o.progressBar, title: `pooled spiffe-lb profiled ${what}` })
      }
      await load(Math.max(o.warmupMs, 200), 'warm-up')
      await load(2 * o.durationMs / o.slices, 'load')
    } finally {
      // Node writes the profile as the process exits: only a graceful stop leaves one.
      await serve.child.stop(BENCH_CHILD_STOP_GRACE_MS)
    }
    const breakdown = profileBreakdown(await readCpuProfile(dir))
    progress(`pooled, profiled serve: ${breakdown.parts.map((p) => `${p.name} ${p.percent.toFixed(1)} %`).join(', ')}`)
    return breakdown
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err)
    progress(`pooled, profiled serve: no breakdown: ${message}`)
    return { busyMs: 0, samples: 0, parts: [], error: message }
  }
}
