import t from 'tap'
import { renderPeerSvg } from './report-svg-peers.ts'
import { peerTargets } from './proxy-targets.ts'
import type { BenchReport, ProxyRun, ProxySample } from './report.ts'

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
