import t from 'tap'
import { renderPeerSvg } from './report-svg-peers.ts'
import { peerTargets } from '../proxy/proxy-targets.ts'
import type { BenchReport, ProxyRun, ProxySample } from '../report-model.ts'

const sample = (cpu: number, rssKb = 50_000): ProxySample => ({
  requests: 100, non2xx: 0, errors: 0, durationMs: 1000, requestsPerSecond: 100, latencyMs: { p50: 1, p90: 2, p99: 3 },
  cpuMicrosPerRequest: cpu, backend: { requests: 100, connections: 100, resumed: 0, newConnectionsPerRequest: 1, resumedFraction: 0 },
  rssKb, maxProcessRssKb: rssKb
})
const run = (mode: ProxyRun['mode'], spiffe: number, nginx: number, rssKb?: number): ProxyRun => ({
  mode, workers: 1, subject: sample(spiffe, rssKb), baseline: sample(spiffe * 1.2), ratio: { cpuPerRequest: 1 / 1.2, requestsPerSecond: 1 },
  peers: [{ name: 'nginx', sample: sample(nginx), cpuRatio: spiffe / nginx }, { name: 'haproxy', sample: sample(nginx * 1.1), cpuRatio: spiffe / (nginx * 1.1) }]
})
const report = (runs: ProxyRun[]): BenchReport => ({
  kind: 'proxy', version: 1, options: {}, targets: [], proxy: runs,
  environment: { spiffeLb: '0', node: 'v24', openssl: '3', undici: '7', platform: 'Linux', arch: 'x64', cpuModel: 'cpu', cpus: 2, startedAt: '2026-01-01T00:00:00Z' }
})

t.test('draws one bar per proxy and mode, and a target line at nginx × limit', async (t) => {
  const svg = renderPeerSvg(report([run('fresh', 1000, 800), run('resumed', 500, 400), run('pooled', 40, 20)])) ?? ''
  t.equal([...svg.matchAll(/class="bar"/g)].length, 12)
  t.match(svg, /class="bar" data-mode="pooled" data-series="nginx" data-value="20"/)
  t.match(svg, /class="target" data-mode="fresh" data-value="880/)
  t.match(svg, /class="target" data-mode="resumed" data-value="540/)
  t.match(svg, /class="target" data-mode="pooled" data-value="40"/)
  t.match(svg, /^<\?xml[\s\S]*<\/svg>\n$/)
})

t.test('no peers, no chart', async (t) => {
  const r = run('fresh', 1, 1)
  delete r.peers
  t.equal(renderPeerSvg(report([r])), undefined)
})

t.test('peer targets: ratio to nginx per mode, resumed over fresh, rss per process', async (t) => {
  const checks = peerTargets([run('fresh', 1000, 1000, 100 * 1024), run('resumed', 500, 400), run('pooled', 50, 20)], 1)
  t.same(checks.map((c) => [c.name, Math.round(c.value * 100) / 100, c.met]), [
    ['proxy fresh cpu / nginx <= 1.10', 1, true],
    ['proxy resumed cpu / nginx <= 1.35', 1.25, true],
    ['proxy pooled cpu / nginx <= 2.00', 2.5, false],
    ['proxy resumed / fresh cpu <= 0.6', 0.5, true],
    ['proxy rss per process under load <= 120 MiB', 100, true]
  ])
})

t.test('the headline per mode is the ratio to nginx with its target, and the spread across slices is drawn', async (t) => {
  const runs = [run('fresh', 1000, 1000), run('resumed', 500, 400), run('pooled', 50, 20)]
  for (const r of runs) {
    for (const s of [r.subject, r.baseline, ...(r.peers ?? []).map((p) => p.sample)]) {
      s.cpuMicrosPerRequestBySlice = [s.cpuMicrosPerRequest * 0.9, s.cpuMicrosPerRequest * 1.2, s.cpuMicrosPerRequest]
    }
  }
  // nginx's second slice was slower: the per-slice ratio spread is spiffe-lb[i] / nginx[i].
  const nginx = runs[0]?.peers?.[0]?.sample.cpuMicrosPerRequestBySlice
  if (nginx !== undefined) nginx[1] = 1500
  const svg = renderPeerSvg(report(runs)) ?? ''
  t.match(svg, /<text class="headline" data-mode="fresh" data-value="1" data-limit="1.1" data-met="true"[^>]*>1\.00× nginx</)
  t.match(svg, /<text class="headline" data-mode="resumed" data-value="1.25" data-limit="1.35" data-met="true"[^>]*>1\.25× nginx</)
  t.match(svg, /<text class="headline" data-mode="pooled" data-value="2.5" data-limit="2" data-met="false"[^>]*>2\.50× nginx</)
  t.match(svg, />target ≤ 2\.00× ✗ not met</)
  t.match(svg, /class="headline-detail" data-mode="fresh" data-min="0.8" data-max="1"/, 'fresh: slices 1200/1500 = 0.8 and 900/900 = 1')
  t.match(svg, />slices 0\.80–1\.00×</)
  t.equal([...svg.matchAll(/<line class="spread"/g)].length, 12, 'a whisker per bar')
  t.match(svg, /<line class="spread" data-mode="pooled" data-series="spiffe-lb" data-min="45" data-max="60"/)
  t.equal([...svg.matchAll(/<line class="target"/g)].length, 3, 'a target line per mode')
  const width = Number(/<svg [^>]*width="(\d+)"/.exec(svg)?.[1])
  t.ok(width < 700, `no wide empty margin (${width} px for three modes)`)
})
