import t from 'tap'
import { renderTerminal, targetLines, targetSentence, fitTable, wrap, DEFAULT_TERMINAL_WIDTH } from './report-terminal.ts'
import { peerTargets, proxyTargets } from '../proxy/proxy-targets.ts'
import { soakTargets } from '../soak/soak-analysis.ts'
import type { BenchReport, ProxyRun, ProxySample } from '../report-model.ts'

const sample = (cpu: number, rssKb = 90 * 1024): ProxySample => ({
  requests: 5000, non2xx: 0, errors: 1, durationMs: 5000, requestsPerSecond: 1000, latencyMs: { p50: 3.21, p90: 5, p99: 12.5 },
  cpuMicrosPerRequest: cpu, backend: { requests: 5000, connections: 5000, resumed: 0, newConnectionsPerRequest: 1, resumedFraction: 0 },
  rssKb, maxProcessRssKb: rssKb
})
const run = (mode: ProxyRun['mode'], spiffe: number, nginx: number): ProxyRun => ({
  mode, workers: 1, subject: sample(spiffe), baseline: sample(spiffe * 1.25), ratio: { cpuPerRequest: 0.8, requestsPerSecond: 1 },
  peers: [{ name: 'nginx', sample: sample(nginx, 10 * 1024), cpuRatio: spiffe / nginx }, { name: 'haproxy', sample: sample(nginx * 1.1, 12 * 1024), cpuRatio: spiffe / (nginx * 1.1) }]
})
const profile = { busyMs: 2000, samples: 8000, parts: [{ name: 'access log', percent: 4.25 }, { name: 'metrics', percent: 2 }, { name: 'the rest (routing, exchange, headers, streams, TLS, timers)', percent: 93.75 }] }
const runs = [run('fresh', 1100, 1000), run('resumed', 700, 400), { ...run('pooled', 100, 40), profile }]
const report: BenchReport = {
  kind: 'proxy', version: 1, options: {}, proxy: runs, targets: proxyTargets(runs, [1]),
  environment: { spiffeLb: '0.1.0', node: 'v24.21.0', openssl: '3.5.8', undici: '8.12.4', platform: 'Linux', arch: 'x64', cpuModel: 'AMD EPYC', cpus: 2, startedAt: '2026-01-01T00:00:00.000Z' }
}

t.test('every line fits the width; narrower terminals drop the least important columns', async (t) => {
  for (const width of [60, 80, DEFAULT_TERMINAL_WIDTH, 160]) {
    const text = renderTerminal(report, width)
    const long = text.split('\n').filter((l) => l.length > width)
    t.same(long, [], `width ${width}: no line longer`)
  }
  const narrow = renderTerminal(report, 60)
  const wide = renderTerminal(report, 160)
  t.match(narrow, /proxy\s+CPU µs\/req\s+spiffe-lb ÷ this/, 'the ratio column survives at 60 columns')
  t.notMatch(narrow, /p50\/p99 ms/, 'latency is dropped at 60 columns')
  t.match(wide, /p50\/p99 ms/, 'and shown at 160')
  t.match(wide, /^nginx\s+400\s+1\.75×\s+1000/m, 'resumed: nginx 400 µs, spiffe-lb 1.75× of it (no slices: no spread)')
  const sliced = structuredClone(report)
  const resumed = sliced.proxy?.[1]
  if (resumed !== undefined) {
    resumed.subject.cpuMicrosPerRequestBySlice = [600, 800]
    const ng = resumed.peers?.[0]?.sample
    if (ng !== undefined) ng.cpuMicrosPerRequestBySlice = [400, 400]
  }
  t.match(renderTerminal(sliced, 160), /^nginx\s+400\s+1\.75×\s+1\.50–2\.00\s+1000/m, 'the per-slice ratios\' range')
  t.equal(renderTerminal(report, 10), renderTerminal(report, 40), 'below 40 columns it lays out for 40')
})

t.test('one compact table per mode, headed in words', async (t) => {
  const text = renderTerminal(report, 100)
  for (const heading of ['fresh mode (a full backend TLS handshake per request), 1 worker', 'resumed mode (a new backend connection per request',
    'pooled mode (keep-alive backend connections), 1 worker']) t.ok(text.includes(heading), heading)
  t.equal(text.split('\n').filter((l) => /^spiffe-lb\s+\d/.test(l)).length, 3, 'a spiffe-lb row per mode')
})

t.test('each target is said in words: what is measured, value, threshold, verdict', async (t) => {
  const checks = peerTargets(runs, 1)
  const fresh = checks.find((c) => c.name === 'proxy fresh cpu / nginx <= 1.20')
  if (fresh === undefined) throw new Error('no fresh target')
  t.equal(targetSentence(fresh), '✓ met: spiffe-lb\'s CPU per request ÷ nginx\'s (same run, 1 worker each), fresh mode (a full backend TLS handshake per request) is 1.10×; the target is at most 1.20×')
  const pooled = checks.find((c) => c.name.startsWith('proxy pooled cpu / nginx'))
  t.match(pooled === undefined ? '' : targetSentence(pooled), /^✗ NOT MET: .*pooled mode .* is 2\.50×; the target is at most 1\.50×$/)
  const rss = checks.find((c) => c.name.startsWith('proxy rss'))
  t.match(rss === undefined ? '' : targetSentence(rss), /resident memory of the largest spiffe-lb serve process.* is 90 MiB; the target is at most 100 MiB$/)
  const soak = soakTargets({ durationMs: 1, warmupMs: 0, samples: [], requests: 1, non2xx: 0, errors: 2, rotations: 0, rssSlopeKbPerMinute: 0, rssGrowthKb: 0, maxRssKb: 0, fdsGrowth: 0 })
  t.match(soak.map(targetSentence).join('\n'), /✗ NOT MET: requests answered with a non-2xx status or failed is 2 requests; the target is exactly 0 requests/)
  t.equal(targetSentence({ name: 'bare name', rule: 'cell-a: ratio <= 1.10', value: 1.2, met: false, cell: 'cell-a' }),
    '✗ NOT MET: bare name is 1.20; the target is at most 1.10', 'a target without words falls back to its name, without the cell prefix')
})

t.test('unmet targets come first with the tally; many met ones are counted', async (t) => {
  const lines = targetLines(report.targets, 100)
  const [head, ...rest] = lines
  const met = report.targets.filter((c) => c.met).length
  t.equal(head, `Targets (${met} of ${report.targets.length} met):`)
  const firstMet = rest.findIndex((l) => l.startsWith('  ✓'))
  const lastUnmet = rest.map((l) => l.startsWith('  ✗')).lastIndexOf(true)
  t.ok(lastUnmet < firstMet, 'unmet before met')
  const many = Array.from({ length: 30 }, (_, i) => ({ name: `t${i}`, rule: 'ratio <= 1', value: 0.5, met: true }))
  t.same(targetLines(many, 100), ['Targets (30 of 30 met):', '  ✓ 30 more targets met (each listed in report.md)'])
  t.same(targetLines([], 100), ['No targets were checked.'])
})

t.test('fitTable and wrap', async (t) => {
  const cols = [{ header: 'a', cells: ['x', 'yy'], right: false }, { header: 'num', cells: ['1', '22'], right: true }, { header: 'wide-col', cells: ['z'], right: false }]
  t.same(fitTable(cols, 100), ['a   num  wide-col', 'x     1  z', 'yy   22'])
  t.same(fitTable(cols, 8), ['a   num', 'x     1', 'yy   22'])
  t.same(fitTable(cols, 1), ['a', 'x', 'yy'], 'the first column always stays')
  t.same(wrap('  one two three four', 10), ['  one two', '    three', '    four'])
})

t.test('the profiled pooled run is one wrapped line under its table, or why there is none', async (t) => {
  const text = renderTerminal(report, 80)
  t.match(text, /^serve's time \(profiled run\): access log 4\.3 %, metrics 2\.0 %, the rest/m)
  const failed = structuredClone(report)
  const pooled = failed.proxy?.[2]
  if (pooled !== undefined) pooled.profile = { busyMs: 0, samples: 0, parts: [], error: 'no .cpuprofile was written to "/tmp/x"' }
  t.match(renderTerminal(failed, 80), /^serve's time \(profiled run\): no breakdown: no \.cpuprofile was written/m)
})
