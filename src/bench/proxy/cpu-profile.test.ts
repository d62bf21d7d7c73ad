import t from 'tap'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PER_REQUEST_EXTRAS, PROFILE_PARTS, REST_PART, profileBreakdown, readCpuProfile, type CpuProfile } from './cpu-profile.ts'

const js = (url: string): string => `file:///srv/spiffe-lb/dist/${url}`
/** A small call tree: each entry is [id, functionName, url, children]. */
const tree: Array<[number, string, string, number[]]> = [
  [1, '(root)', '', [2, 3, 4, 5]],
  [2, '(program)', '', []],
  [3, '(idle)', '', []],
  [4, '(garbage collector)', '', []],
  [5, 'handle', js('proxy/proxy.js'), [6, 7, 9]],
  [6, 'access', js('runtime/access-log.js'), [8]],
  [7, 'observeRequest', js('admin/metrics.js'), [12]],
  [8, 'write', js('process/log-destination.js'), []],
  [9, 'write', js('proxy/lean-response.js'), [10, 11]],
  [10, 'writeLatin1String', '', []],
  [11, 'execute', js('proxy/http1/http1-parser.js'), []],
  [12, 'observe', 'file:///srv/spiffe-lb/node_modules/prom-client/lib/histogram.js', []]
]
const profileOf = (samples: Array<[number, number]>): CpuProfile => ({
  nodes: tree.map(([id, functionName, url, children]) => ({ id, callFrame: { functionName, url }, children })),
  samples: samples.map(([id]) => id),
  timeDeltas: samples.map(([, dt]) => dt)
})
const shares = (p: CpuProfile): Record<string, number> => Object.fromEntries(profileBreakdown(p).parts.map((x) => [x.name, Math.round(x.percent * 10) / 10]))

t.test('busy time is split into the parts, idle left out, the rest last', async (t) => {
  // 1000 µs busy: access log 100 (its own frame 60, the destination under it 40), metrics 50
  // (prom-client under observeRequest), writes 300, parsing 150, GC 100, the rest 300.
  const p = profileOf([[3, 5000], [6, 60], [8, 40], [7, 20], [12, 30], [10, 300], [11, 150], [4, 100], [5, 200], [9, 50], [2, 50]])
  const b = profileBreakdown(p)
  t.equal(b.busyMs, 1)
  t.equal(b.samples, 11)
  t.same(b.parts.map((x) => x.name), [...PROFILE_PARTS.map((x) => x.name), REST_PART])
  t.same(PER_REQUEST_EXTRAS, ['access log', 'metrics'], 'the parts the 10 % target sums')
  t.same(shares(p), {
    'access log': 10,
    metrics: 5,
    'socket writes': 30,
    'HTTP/1.1 parsing (llhttp)': 15,
    'garbage collection': 10,
    [REST_PART]: 30
  })
})

t.test('edge cases', async (t) => {
  const cases: Array<[string, CpuProfile, Record<string, number>]> = [
    ['only idle: every share 0', profileOf([[3, 100]]), { 'access log': 0, [REST_PART]: 0 }],
    ['a negative delta counts as 0', profileOf([[6, -5], [5, 10]]), { 'access log': 0, [REST_PART]: 100 }],
    ['a missing delta counts as 0', { ...profileOf([[6, 10]]), samples: [6, 5] }, { 'access log': 100, [REST_PART]: 0 }]
  ]
  for (const [name, p, want] of cases) t.match(shares(p), want, name)
  t.throws(() => profileBreakdown({ ...profileOf([]), samples: [99], timeDeltas: [1] }), { code: 'ERR_SPIFFE_BENCH_BAD_PROFILE', message: /node 99/ })
})

t.test('readCpuProfile reads the profile Node wrote, and names what is wrong with a bad one', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'spiffe-lb-cpu-profile-'))
  t.teardown(async () => { await rm(dir, { recursive: true, force: true }) })
  await t.rejects(readCpuProfile(dir), { code: 'ERR_SPIFFE_BENCH_BAD_PROFILE', message: /no \.cpuprofile/ })
  await t.rejects(readCpuProfile(join(dir, 'absent')), { code: 'ENOENT' })
  const file = join(dir, 'CPU.20261207.1.0.001.cpuprofile')
  await writeFile(file, '{"nodes": [')
  await t.rejects(readCpuProfile(dir), { code: 'ERR_SPIFFE_BENCH_BAD_PROFILE', message: /is not JSON/ })
  await writeFile(file, JSON.stringify({ nodes: [], samples: [1], timeDeltas: [] }))
  await t.rejects(readCpuProfile(dir), { code: 'ERR_SPIFFE_BENCH_BAD_PROFILE', message: /matching timeDeltas/ })
  const good = profileOf([[6, 10], [5, 30]])
  await writeFile(file, JSON.stringify({ ...good, startTime: 0, endTime: 40 }))
  t.same(shares(await readCpuProfile(dir)), shares(good))
})
