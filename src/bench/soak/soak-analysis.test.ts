import t from 'tap'
import { analyseSoak, slope, soakTargets } from './soak-analysis.ts'
import type { SoakSample } from '../report-model.ts'
import { resolveSoakOptions } from './soak-options.ts'

const samples = (rss: (s: number) => number, fds = (_s: number) => 40): SoakSample[] =>
  Array.from({ length: 13 }, (_, i) => ({ atSeconds: i * 10, rssKb: rss(i * 10), fds: fds(i * 10), requests: i * 100, rotations: i }))

t.test('slope is the least-squares rise per unit of x', async (t) => {
  t.equal(slope([[0, 1], [1, 3], [2, 5]]), 2)
  t.equal(slope([[0, 7]]), 0)
  t.equal(slope([[1, 1], [1, 2]]), 0)
})

t.test('flat memory after warm-up passes, steady growth fails, warm-up growth is ignored', async (t) => {
  const cases = [
    { name: 'flat', rss: (s: number) => 100_000 + (s % 20 === 0 ? 500 : 0), met: true },
    { name: 'grows only during warm-up', rss: (s: number) => s < 30 ? 60_000 + s * 1000 : 90_000, met: true },
    { name: 'keeps growing', rss: (s: number) => 80_000 + s * 100, met: false } // 6 MiB/min
  ]
  for (const c of cases) {
    const s = samples(c.rss)
    const result = { durationMs: 120_000, warmupMs: 30_000, samples: s, requests: 1, non2xx: 0, errors: 0, rotations: 12, ...analyseSoak(s, 30_000) }
    const growth = soakTargets(result).find((x) => x.name.startsWith('soak rss slope'))
    t.equal(growth?.met, c.met, c.name)
  }
})

t.test('too few samples after warm-up, failed requests, fd growth and a high rss each fail their check', async (t) => {
  const s = samples(() => 200 * 1024, (x) => 40 + x)
  const r = { durationMs: 120_000, warmupMs: 115_000, samples: s, requests: 10, non2xx: 1, errors: 0, rotations: 1, ...analyseSoak(s, 115_000) }
  t.same(soakTargets(r).map((c) => c.met), [false, true, false, false])
  const r2 = { ...r, warmupMs: 0, ...analyseSoak(s, 0) }
  t.equal(r2.fdsGrowth, 120)
  t.equal(soakTargets(r2)[1]?.met, false)
})

t.test('options: defaults, quick, and refused values', async (t) => {
  t.match(resolveSoakOptions({}), { durationMs: 600_000, warmupMs: 60_000, rotateEveryMs: 30_000, sampleEveryMs: 5000 })
  t.match(resolveSoakOptions({ quick: true }), { durationMs: 30_000, warmupMs: 10_000 })
  t.throws(() => resolveSoakOptions({ durationMs: 5000, warmupMs: 5000 }), { code: 'ERR_SPIFFE_BENCH_BAD_OPTION', message: /--warmup/ })
  t.throws(() => resolveSoakOptions({ rotateEveryMs: 10 }), { message: /--rotate-every/ })
})
