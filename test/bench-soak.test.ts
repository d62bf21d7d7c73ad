// `bench soak` end to end on a few seconds (the full 10-minute soak runs only by hand): mixed
// traffic through one serve while its SVID rotates, RSS and descriptors sampled. No timing or
// memory assertions: the report's structure, the rotations, and no failed request.
import t from 'tap'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { runSoakBench } from '../src/bench/soak/soak-bench.ts'
import { writeReport } from '../src/bench/report/write-report.ts'

t.test('a short soak rotates the SVID under mixed load and samples memory', async (t) => {
  const report = await runSoakBench({ durationMs: 4000, warmupMs: 1000, rotateEveryMs: 1000, sampleEveryMs: 500, connections: 4 })
  const soak = report.soak
  t.equal(report.kind, 'soak')
  t.ok(soak !== undefined)
  if (soak === undefined) return
  t.ok(soak.rotations >= 1, `${soak.rotations} rotations written`)
  t.ok(soak.requests > 0, `${soak.requests} requests`)
  t.equal(soak.non2xx + soak.errors, 0, 'no request failed across the rotations')
  t.ok(soak.samples.length >= 3, `${soak.samples.length} samples`)
  t.ok(soak.samples.every((s) => s.rssKb > 0 && s.fds > 0), 'every sample has rss and fds')
  t.same(report.targets.map((c) => c.name.split(' ').slice(0, 3).join(' ')), ['soak rss slope', 'soak open fds', 'soak max rss', 'soak failed requests'])
  const dir = await mkdtemp(join(tmpdir(), 'spiffe-lb-soak-report-'))
  t.teardown(async () => { await rm(dir, { recursive: true, force: true }) })
  const written = await writeReport(report, dir)
  t.match(await readFile(written.svg, 'utf8'), /<polyline class="series" data-panel="0"/)
  t.match(await readFile(written.markdown, 'utf8'), /## Soak[\s\S]*\| seconds \| RSS MiB \| open fds/)
})
