import t from 'tap'
import { ratio } from '../report-model.ts'
import type { ProxyRun, ProxySample } from '../report-model.ts'
import { proxyTargets } from './proxy-targets.ts'

function sample (rps: number, cpu: number, over: Partial<ProxySample> = {}): ProxySample {
  return {
    requests: rps * 5, non2xx: 0, errors: 0, durationMs: 5000, requestsPerSecond: rps, latencyMs: { p50: 1, p90: 2, p99: 3 },
    cpuMicrosPerRequest: cpu,
    backend: { requests: rps * 5, connections: rps * 5, resumed: 0, newConnectionsPerRequest: 1, resumedFraction: 0 },
    ...over
  }
}
function run (mode: ProxyRun['mode'], workers: number, s: ProxySample, b: ProxySample): ProxyRun {
  return { mode, workers, subject: s, baseline: b, ratio: { cpuPerRequest: ratio(s.cpuMicrosPerRequest, b.cpuMicrosPerRequest), requestsPerSecond: ratio(s.requestsPerSecond, b.requestsPerSecond) } }
}

t.test('cpu targets come from the runs with the fewest workers; the scaling target from fresh requests/s', async (t) => {
  const runs = [
    run('fresh', 1, sample(1000, 800), sample(900, 1000)),
    run('resumed', 1, sample(1500, 500), sample(1400, 450)),
    run('pooled', 1, sample(5000, 60), sample(4000, 55)),
    run('fresh', 2, sample(1700, 820), sample(900, 1000)),
    run('pooled', 2, sample(8000, 30), sample(4000, 55))
  ]
  const checks = proxyTargets(runs, [1, 2])
  t.same(checks.map(({ name, rule, value, met }) => ({ name, rule, value, met })), [
    { name: 'proxy fresh cpu ratio <= 0.85', rule: 'ratio <= 0.85', value: 0.8, met: true },
    { name: 'proxy pooled cpu ratio <= 1.0', rule: 'ratio <= 1.0', value: 60 / 55, met: false },
    { name: 'proxy resumed / fresh cpu <= 0.6', rule: 'ratio <= 0.6', value: 500 / 800, met: false },
    { name: 'workers 2/1 handshakes-per-second ratio >= 1.6', rule: 'ratio >= 1.6', value: 1.7, met: true }
  ])
  t.same(checks.map((c) => c.unit), ['×', '×', '×', '×'])
  t.match(checks.map((c) => c.measures), [/undici forwarder's, fresh mode/, /undici forwarder's, pooled mode/, /resumed mode ÷ in fresh mode/, /with 2 workers ÷ with 1/],
    'each target says what it measures')
})

t.test('missing modes, an unmeasured cpu and an empty side give no false success', async (t) => {
  const unmeasured = sample(1000, 0, { unmeasured: ['cpu', 'backend'] })
  t.same(proxyTargets([run('fresh', 1, unmeasured, sample(900, 1000))], [1]), [], 'unknown proxy cpu: no cpu target')
  t.same(proxyTargets([run('resumed', 1, sample(1, 1), sample(1, 1))], [1]), [], 'resumed mode alone has no target')
  const empty = proxyTargets([run('pooled', 1, sample(0, 0), sample(1000, 50))], [1])
  t.match(empty, [{ name: 'proxy pooled cpu ratio <= 1.0', value: 0, met: false }])
  t.match(proxyTargets([run('fresh', 2, sample(1500, 700), sample(900, 1000)), run('fresh', 1, sample(1000, 700), sample(900, 1000))], [2, 1]),
    [{ name: 'proxy fresh cpu ratio <= 0.85' }, { name: 'workers 1/2 handshakes-per-second ratio >= 1.6', value: 1000 / 1500, met: false }],
    'the first --workers value is the base of the scaling ratio')
})

t.test('the profiled pooled run gives the access log + metrics target; a failed profile gives none', async (t) => {
  const profiled = (parts: Array<[string, number]>, over: Partial<NonNullable<ProxyRun['profile']>> = {}): ProxyRun => ({
    ...run('pooled', 1, sample(5000, 60), sample(4000, 55)),
    profile: { busyMs: 2000, samples: 8000, parts: parts.map(([name, percent]) => ({ name, percent })), ...over }
  })
  const target = (r: ProxyRun): unknown => proxyTargets([r], [1]).find((c) => c.name.includes('access log'))
  const cases: Array<[string, ProxyRun, unknown]> = [
    ['under the limit', profiled([['access log', 4.5], ['metrics', 3], ['socket writes', 40]]),
      { name: 'proxy pooled access log + metrics <= 10 %', rule: 'percent <= 10', value: 7.5, met: true, unit: '%' }],
    ['over it', profiled([['access log', 8], ['metrics', 2.5], ['garbage collection', 5]]), { value: 10.5, met: false }],
    ['no busy time', profiled([['access log', 0], ['metrics', 0]], { busyMs: 0 }), { value: 0, met: false }],
    ['profiling failed', profiled([], { error: 'no .cpuprofile was written' }), undefined],
    ['not profiled', run('pooled', 1, sample(5000, 60), sample(4000, 55)), undefined]
  ]
  for (const [name, r, want] of cases) {
    if (want === undefined) t.equal(target(r), undefined, name)
    else t.match(target(r), want, name)
  }
})
