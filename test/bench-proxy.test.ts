// `bench proxy` end to end on a tiny run: every mode, both sides, real child
// processes (backend, `spiffe-lb serve`, the undici forwarder). No timing assertions: the report's
// structure, and the backend-counted connections that prove each mode is what it claims to be.
import t, { type Test } from 'tap'
import { execFile } from 'node:child_process'
import { mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { runProxyBench } from '../src/bench/proxy/proxy-bench.ts'
import type { ProxySample } from '../src/bench/report-model.ts'
import { availablePeers } from '../src/bench/proxy/peer-proxies.ts'
import { PROFILE_PARTS, REST_PART } from '../src/bench/proxy/cpu-profile.ts'

const CONNECTIONS = 4
const SLICES = 2

t.test('a tiny run of all three modes counts backend connections that match each mode', async (t) => {
  // A temporary directory of this run's own: other tests (bench soak) make bench worlds in the
  // shared one at the same time. os.tmpdir() reads TMPDIR on every call.
  const tmp = await mkdtemp(join(tmpdir(), 'spiffe-lb-bench-proxy-test-'))
  const savedTmp = process.env.TMPDIR
  process.env.TMPDIR = tmp
  t.teardown(async () => {
    if (savedTmp === undefined) delete process.env.TMPDIR
    else process.env.TMPDIR = savedTmp
    await rm(tmp, { recursive: true, force: true })
  })
  const leftovers = async (): Promise<string[]> => (await readdir(tmp)).filter((n) => n.startsWith('spiffe-lb-bench-proxy-'))
  const before = new Set(await leftovers())
  const lines: string[] = []
  // nginx and HAProxy run when installed (CI installs both); absent ones are skipped with a note.
  const peers = availablePeers(['nginx', 'haproxy'])
  const report = await runProxyBench({ connections: CONNECTIONS, durationMs: 600, warmupMs: 250, slices: SLICES }, (l) => { lines.push(l) })

  t.equal(report.kind, 'proxy')
  t.equal(report.version, 1)
  t.match(report.environment, { node: process.version, openssl: process.versions.openssl, cpus: Number })
  t.match(report.options, { modes: ['fresh', 'resumed', 'pooled'], connections: CONNECTIONS, durationMs: 600, warmupMs: 250, slices: SLICES, workers: [1] })
  t.same(report.proxy?.map((r) => [r.mode, r.workers]), [['fresh', 1], ['resumed', 1], ['pooled', 1]])
  t.ok(lines.some((l) => l.startsWith('fresh, 1 worker:')), 'progress names the mode')
  t.same((await leftovers()).filter((n) => !before.has(n)), [], 'the temporary directory is removed')

  // /proc reports CPU in 10 ms ticks: a peer that spends ~20 µs per pooled request can read 0 over a tiny run.
  const structure = (t: Test, s: ProxySample, cpuMayReadZero = false): void => {
    t.ok(s.requests > 0, 'requests were answered')
    t.equal(s.non2xx, 0, 'every answer was 2xx')
    t.equal(s.errors, 0, 'no errors')
    t.ok(s.durationMs > 0 && s.requestsPerSecond > 0)
    t.ok(s.latencyMs.p50 <= s.latencyMs.p90 && s.latencyMs.p90 <= s.latencyMs.p99, 'percentiles are ordered')
    if (!cpuMayReadZero) t.ok(s.cpuMicrosPerRequest > 0, 'the process tree used CPU')
    t.equal(s.unmeasured, undefined, 'everything was measured')
    // The backend sees every answered request, plus at most the ones in flight when a slice stopped.
    t.ok(s.backend.requests >= s.requests, `backend requests ${s.backend.requests} >= answered ${s.requests}`)
    t.ok(s.backend.requests <= s.requests + CONNECTIONS * SLICES, `backend requests ${s.backend.requests} <= answered ${s.requests} + in flight`)
  }
  for (const run of report.proxy ?? []) {
    for (const [side, s] of [['spiffe-lb', run.subject], ['undici', run.baseline]] as const) {
      t.test(`${run.mode} ${side}`, async (t) => {
        structure(t, s)
        const b = s.backend
        if (run.mode === 'pooled') {
          t.ok(b.connections <= CONNECTIONS * SLICES, `pooled: ${b.connections} new connections for ${b.requests} requests`)
          // On a loaded machine a slice may answer only a few requests per connection; the bound above holds regardless.
          if (b.requests >= 8 * CONNECTIONS * SLICES) t.ok(b.newConnectionsPerRequest < 0.25, `pooled: ${b.newConnectionsPerRequest} new connections per request`)
        } else {
          // One backend connection per request, exactly: the /stats reader's own are subtracted.
          t.equal(b.connections, b.requests, `${run.mode}: one new connection per request`)
          t.equal(b.newConnectionsPerRequest, 1)
          if (run.mode === 'fresh') t.equal(b.resumed, 0, 'fresh: no session was resumed')
          else t.ok(b.resumedFraction >= 0.9, `resumed: ${b.resumed}/${b.connections} resumed`)
        }
      })
    }
    t.equal(run.ratio.cpuPerRequest, run.subject.cpuMicrosPerRequest / run.baseline.cpuMicrosPerRequest)
    t.ok((run.subject.maxProcessRssKb ?? 0) > 0, 'the proxy\'s RSS was sampled')
    t.same(run.peers?.map((p) => p.name) ?? [], [...peers.found.keys()], `${run.mode}: every installed peer ran`)
    for (const peer of run.peers ?? []) {
      t.test(`${run.mode} ${peer.name}`, async (t) => {
        structure(t, peer.sample, run.mode === 'pooled')
        const b = peer.sample.backend
        if (peer.sample.cpuMicrosPerRequest > 0) t.equal(peer.cpuRatio, run.subject.cpuMicrosPerRequest / peer.sample.cpuMicrosPerRequest)
        if (run.mode === 'pooled') t.ok(b.connections <= CONNECTIONS * SLICES, `pooled: ${b.connections} new connections for ${b.requests} requests`)
        // A peer may have opened a connection for a request still in flight when the slice stopped.
        else t.ok(b.connections >= b.requests && b.connections <= b.requests + CONNECTIONS * SLICES, `${run.mode}: one new connection per request (${b.connections} for ${b.requests})`)
        if (run.mode === 'fresh') t.equal(b.resumed, 0, 'fresh: no session was resumed')
        // nginx stores one session per upstream and concurrent connections race for it: some resume.
        if (run.mode === 'resumed') t.ok(b.resumed > 0, `resumed: ${b.resumed}/${b.connections} resumed`)
      })
    }
  }
  t.equal(report.notes?.length ?? 0, peers.notes.length, 'each missing peer is noted')
  const names = report.targets.map((c) => c.name)
  t.same(names.slice(0, 2), ['proxy fresh cpu ratio <= 0.85', 'proxy pooled cpu ratio <= 1.0'])
  if (peers.found.has('nginx')) {
    t.same(names.slice(2), ['proxy fresh cpu / nginx <= 1.20', 'proxy resumed cpu / nginx <= 1.50', 'proxy pooled cpu / nginx <= 1.50',
      'proxy resumed / fresh cpu <= 0.6', 'proxy rss per process under load <= 100 MiB', 'proxy pooled access log + metrics <= 10 %'])
  }
  // The profiled pooled serve: its access log (on, as in every bench run) and metrics are found
  // in the profile by their modules, so a renamed module shows here as a zero share.
  const profile = report.proxy?.find((r) => r.mode === 'pooled')?.profile
  t.equal(profile?.error, undefined, 'the pooled serve was profiled')
  t.ok((profile?.busyMs ?? 0) > 0 && (profile?.samples ?? 0) > 0, 'the profile has busy samples')
  t.same(profile?.parts.map((p) => p.name), [...PROFILE_PARTS.map((p) => p.name), REST_PART])
  t.ok(Math.abs((profile?.parts ?? []).reduce((n, p) => n + p.percent, 0) - 100) < 1e-6, 'the shares add up to 100 %')
  for (const name of ['access log', 'metrics', 'HTTP/1.1 parsing (llhttp)']) {
    t.ok((profile?.parts.find((p) => p.name === name)?.percent ?? 0) > 0, `${name}: a share above 0`)
  }
  for (const c of report.targets.slice(0, 2)) {
    const limit = c.name.includes('fresh') ? 0.85 : 1.0
    const run = report.proxy?.find((r) => c.name.includes(r.mode))
    t.equal(c.value, run?.ratio.cpuPerRequest)
    t.equal(c.met, c.value > 0 && c.value <= limit)
  }
})

t.test('the command refuses a bad option with exit 2, naming the flag, before starting anything', async (t) => {
  const main = new URL('../src/cli/main.ts', import.meta.url).pathname
  const err = await promisify(execFile)(process.execPath, [main, 'bench', 'proxy', '--modes', 'fresh,warm']).then(() => undefined, (e: unknown) => e)
  t.match(err, { code: 2, stderr: /ERR_SPIFFE_BENCH_BAD_OPTION: --modes .*"warm"/ })
  const h3 = await promisify(execFile)(process.execPath, [main, 'bench', 'proxy', '--protocol', 'h1,h3']).then(() => undefined, (e: unknown) => e)
  t.match(h3, { code: 2, stderr: /ERR_SPIFFE_BENCH_BAD_OPTION: --protocol .*"h3"/ })
})

t.test('--protocol h2: the pooled run reaches the backend over HTTP/2 on a few multiplexed connections', async (t) => {
  const report = await runProxyBench({ protocols: ['h1', 'h2'], modes: ['pooled'], peers: [], connections: CONNECTIONS, durationMs: 600, warmupMs: 250, slices: SLICES })
  t.match(report.options, { modes: ['pooled'], protocols: ['h1', 'h2'] })
  t.same(report.proxy?.map((r) => [r.mode, r.protocol]), [['pooled', 'h1'], ['pooled', 'h2']], 'one pooled run per protocol, labelled')
  for (const run of report.proxy ?? []) {
    for (const [side, s] of [['spiffe-lb', run.subject], ['undici', run.baseline]] as const) {
      const b = s.backend
      t.ok(s.requests > 0 && s.non2xx === 0 && s.errors === 0, `${run.protocol} ${side}: answered, all 2xx`)
      if (run.protocol === 'h2') {
        t.ok(b.requests > 0 && b.h2Requests === b.requests, `${run.protocol} ${side}: ${b.h2Requests}/${b.requests} backend requests over HTTP/2`)
        // Streams are multiplexed: at most a connection per slice, whatever the frontend concurrency.
        t.ok(b.connections <= SLICES, `${run.protocol} ${side}: ${b.connections} new backend connections`)
      } else {
        t.equal(b.h2Requests, 0, `${run.protocol} ${side}: HTTP/1.1 only`)
      }
    }
  }
  const pooled = report.targets.find((c) => c.name === 'proxy pooled cpu ratio <= 1.0')
  t.equal(pooled?.value, report.proxy?.find((r) => r.protocol === 'h1')?.ratio.cpuPerRequest, 'the targets judge the HTTP/1.1 run')
})
