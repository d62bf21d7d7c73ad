import t from 'tap'
import { ratio, type BenchEnvironment, type BenchReport, type HandshakeCell, type HandshakeSample, type ProxyRun, type ProxySample, type TargetCheck } from '../report-model.ts'
import { handshakeColumns, proxyColumns, renderMarkdown, targetColumns } from './report-markdown.ts'

// --- a small report builder: every value differs per seed, with fractions that need rounding ---
const env: BenchEnvironment = {
  spiffeLb: '0.3.0', node: 'v24.21.0', openssl: '3.0.13+quic', undici: '8.12.4', platform: 'Linux 6.8.0',
  arch: 'x64', cpuModel: 'Test CPU <&> @ 2.00GHz', cpus: 2, startedAt: '2025-06-01T10:00:00.000Z'
}
function hsSample (seed: number, over: Partial<HandshakeSample> = {}): HandshakeSample {
  return {
    handshakes: 1000 + seed * 7, errors: seed % 3, durationMs: 2000, handshakesPerSecond: 1234.567 + seed * 13.31,
    cpuMicrosPerHandshake: 812.49 + seed * 3.77, latencyMs: { p50: 1.234 + seed / 100, p90: 2, p99: 4.567 + seed / 10 },
    resumedFraction: (seed % 10) / 9.7, negotiated: { protocol: 'TLSv1.3', cipher: 'TLS_AES_128_GCM_SHA256', group: 'X25519' },
    errorSamples: [], ...over
  }
}
function hsCell (i: number, subject: Partial<HandshakeSample> = {}, id = `ECDSA_P256/leaf+root/TLSv1.3/X25519/full#${i}`): HandshakeCell {
  const s = hsSample(i, subject)
  const b = hsSample(i + 50)
  return {
    id, keyAlgorithm: 'ECDSA_P256', chainDepth: 1, tlsVersion: 'TLSv1.3', group: 'X25519', mode: i % 2 === 0 ? 'full' : 'resumed',
    subject: s, baseline: b,
    ratio: { cpuPerHandshake: ratio(s.cpuMicrosPerHandshake, b.cpuMicrosPerHandshake), handshakesPerSecond: ratio(s.handshakesPerSecond, b.handshakesPerSecond) }
  }
}
function pxSample (seed: number, over: Partial<ProxySample> = {}): ProxySample {
  return {
    requests: 5000 + seed, non2xx: seed % 2, errors: seed % 3, durationMs: 3000, requestsPerSecond: 1666.66 + seed * 11.1,
    latencyMs: { p50: 2.345 + seed / 50, p90: 4, p99: 9.876 + seed / 5 }, cpuMicrosPerRequest: 987.65 - seed * 2.2,
    backend: { requests: 5000, connections: 5000 - seed, resumed: 4000, newConnectionsPerRequest: (5000 - seed * 900) / 5000, resumedFraction: 0.8 + seed / 100 },
    ...over
  }
}
function pxRun (i: number, mode: ProxyRun['mode'], workers = 1, subject: Partial<ProxySample> = {}): ProxyRun {
  const s = pxSample(i, subject)
  const b = pxSample(i + 3)
  return { mode, workers, subject: s, baseline: b, ratio: { cpuPerRequest: ratio(s.cpuMicrosPerRequest, b.cpuMicrosPerRequest), requestsPerSecond: ratio(s.requestsPerSecond, b.requestsPerSecond) } }
}
const targets: TargetCheck[] = [
  { name: 'full handshake CPU | ratio <&>', rule: 'ratio <= 1.10', value: 1.0849, met: true, measures: 'the connector\'s CPU ÷ bare tls.connect\'s', unit: '×' },
  { name: 'resumed fraction', rule: 'resumed >= 0.99', value: 0.98961, met: false }
]
function report (kind: BenchReport['kind'], rows: HandshakeCell[] | ProxyRun[], t: TargetCheck[] = targets): BenchReport {
  return { kind, version: 1, environment: env, options: { durationMs: 300, concurrency: 4 }, ...(kind === 'handshake' ? { handshake: rows as HandshakeCell[] } : { proxy: rows as ProxyRun[] }), targets: t }
}

// --- reading the Markdown back ---
/** The assertions the helpers use, which the root and every subtest have. */
type Check = Pick<typeof t, 'equal' | 'match' | 'ok'>
function splitRow (line: string): string[] {
  return line.slice(2, -2).split(/ (?<!\\)\| /).map((c) => c.replace(/\\\|/g, '|').replace(/\\\\/g, '\\'))
}
/** The table under `## heading`: header cells and body rows. */
function tableUnder (md: string, heading: string): { header: string[], rows: string[][] } {
  const lines = md.split('\n')
  const start = lines.indexOf(`## ${heading}`)
  const tableLines: string[] = []
  for (const line of lines.slice(start + 2)) { if (!line.startsWith('|')) break; tableLines.push(line) }
  const [header = '', , ...rows] = tableLines
  return { header: splitRow(header), rows: rows.map(splitRow) }
}
/** Asserts `text` is `value` rounded to `decimals` (or `n/a` when value is not finite). */
function shows (t: Check, text: string | undefined, value: number, decimals: number, what: string): void {
  if (!Number.isFinite(value)) { t.equal(text, 'n/a', what); return }
  t.match(text, /^-?\d+(\.\d+)?$/, `${what} is a number`)
  t.equal((text ?? '').split('.')[1]?.length ?? 0, decimals, `${what} has ${decimals} decimals`)
  t.ok(Math.abs(Number(text) - value) <= 0.5 * 10 ** -decimals + 1e-9, `${what}: ${text} shows ${value}`)
}
const pairOf = (text: string | undefined): string[] => (text ?? '').split(' / ')

const hsCases: Array<[string, HandshakeCell[]]> = [
  ['one cell', [hsCell(1)]],
  ['several cells', [0, 1, 2, 3, 4].map((i) => hsCell(i))],
  ['zero handshakes', [hsCell(0, { handshakes: 0, handshakesPerSecond: 0, cpuMicrosPerHandshake: 0, latencyMs: { p50: 0, p90: 0, p99: 0 }, resumedFraction: 0, negotiated: undefined, errors: 12, errorSamples: ['connect ECONNREFUSED | 127.0.0.1'] })]],
  ['non-finite values', [hsCell(2, { cpuMicrosPerHandshake: Number.NaN, handshakesPerSecond: Number.POSITIVE_INFINITY })]],
  ['ids with | and <&>', [hsCell(3, {}, 'weird|id <&> "x" \\ y')]]
]
for (const [name, cells] of hsCases) {
  t.test(`handshake table: ${name}`, async (t) => {
    const md = renderMarkdown(report('handshake', cells))
    t.match(md, /^# spiffe-lb bench handshake — 2025-06-01T10:00:00\.000Z\n/)
    for (const v of ['0.3.0', 'v24.21.0', '3.0.13+quic', '8.12.4', 'Test CPU <&> @ 2.00GHz × 2', 'Linux 6.8.0 (x64)']) t.ok(md.includes(v), `environment shows ${v}`)
    t.notMatch(md, /NaN|undefined|Infinity/)
    const { header, rows } = tableUnder(md, 'Handshakes')
    t.same(header, handshakeColumns)
    t.equal(rows.length, cells.length)
    cells.forEach((c, i) => {
      const row = rows[i] ?? []
      t.equal(row.length, handshakeColumns.length, 'one cell per column')
      t.equal(row[0], c.id)
      t.equal(row[1], c.mode)
      const numeric: Array<[number, number, number, string]> = [
        [2, c.subject.handshakesPerSecond, 0, 'hs/s'], [3, c.baseline.handshakesPerSecond, 0, 'bare hs/s'],
        [4, c.subject.cpuMicrosPerHandshake, 0, 'cpu'], [5, c.baseline.cpuMicrosPerHandshake, 0, 'bare cpu'],
        [6, c.ratio.cpuPerHandshake, 2, 'ratio']
      ]
      for (const [col, value, decimals, what] of numeric) shows(t, row[col], value, decimals, what)
      const [p50, p99] = (row[7] ?? '').split('/')
      shows(t, p50, c.subject.latencyMs.p50, 2, 'p50')
      shows(t, p99, c.subject.latencyMs.p99, 2, 'p99')
      const [rs, rb] = pairOf(row[8])
      shows(t, rs, c.subject.resumedFraction * 100, 1, 'resumed %')
      shows(t, rb, c.baseline.resumedFraction * 100, 1, 'bare resumed %')
      t.same(pairOf(row[9]).map(Number), [c.subject.errors, c.baseline.errors])
      const n = c.subject.negotiated
      t.equal(row[10], n === undefined ? '—' : `${n.protocol} / ${n.cipher} / ${n.group}`)
    })
    for (const c of cells) for (const e of c.subject.errorSamples) t.ok(md.includes(`- ${c.id} (spiffe-lb): ${e}`), 'error samples listed')
  })
}

const pxCases: Array<[string, ProxyRun[]]> = [
  ['three modes', [pxRun(0, 'fresh'), pxRun(1, 'resumed'), pxRun(2, 'pooled')]],
  ['a 2-worker run', [pxRun(0, 'fresh'), pxRun(4, 'fresh', 2)]],
  ['pooled over HTTP/1.1 and HTTP/2', [pxRun(2, 'pooled'), { ...pxRun(3, 'pooled', 1, { backend: { requests: 300, h2Requests: 297, connections: 1, resumed: 0, newConnectionsPerRequest: 1 / 300, resumedFraction: 0 } }), protocol: 'h2' }]],
  ['zero requests', [pxRun(0, 'pooled', 1, { requests: 0, requestsPerSecond: 0, cpuMicrosPerRequest: 0, backend: { requests: 0, connections: 0, resumed: 0, newConnectionsPerRequest: 0, resumedFraction: 0 } })]]
]
const h2Share = (s: ProxyRun['subject']): number => s.backend.requests === 0 ? 0 : (s.backend.h2Requests ?? 0) / s.backend.requests * 100
for (const [name, runs] of pxCases) {
  t.test(`proxy table: ${name}`, async (t) => {
    const md = renderMarkdown(report('proxy', runs))
    t.match(md, /^# spiffe-lb bench proxy — /)
    t.notMatch(md, /NaN|undefined|Infinity|## Handshakes/)
    const { header, rows } = tableUnder(md, 'Proxy')
    t.same(header, proxyColumns)
    t.equal(rows.length, runs.length)
    runs.forEach((r, i) => {
      const row = rows[i] ?? []
      t.equal(row.length, proxyColumns.length)
      t.equal(row[0], r.mode)
      t.equal(Number(row[1]), r.workers)
      const pairs: Array<[number, number, number, number, string]> = [
        [2, r.subject.requestsPerSecond, r.baseline.requestsPerSecond, 0, 'rps'],
        [3, r.subject.cpuMicrosPerRequest, r.baseline.cpuMicrosPerRequest, 0, 'cpu'],
        [7, r.subject.backend.newConnectionsPerRequest, r.baseline.backend.newConnectionsPerRequest, 2, 'new conns/req'],
        [8, r.subject.backend.resumedFraction * 100, r.baseline.backend.resumedFraction * 100, 1, 'resumed %'],
        [9, r.subject.non2xx + r.subject.errors, r.baseline.non2xx + r.baseline.errors, 0, 'non-2xx+errors'],
        [11, h2Share(r.subject), h2Share(r.baseline), 1, 'backend h2 %']
      ]
      t.equal(row[10], r.protocol === 'h2' ? 'HTTP/2' : 'HTTP/1.1', 'each run is labelled with its backend protocol')
      for (const [col, s, b, decimals, what] of pairs) {
        const [ts, tb] = pairOf(row[col])
        shows(t, ts, s, decimals, `${what} (spiffe-lb)`)
        shows(t, tb, b, decimals, `${what} (undici)`)
      }
      shows(t, row[4], r.ratio.cpuPerRequest, 2, 'ratio')
      for (const [col, side] of [[5, r.subject], [6, r.baseline]] as const) {
        const [p50, p99] = (row[col] ?? '').split('/')
        shows(t, p50, side.latencyMs.p50, 2, 'p50')
        shows(t, p99, side.latencyMs.p99, 2, 'p99')
      }
    })
  })
}

t.test('targets table shows name, what is measured, rule, value and ✓/✗, escaping |', async (t) => {
  const md = renderMarkdown(report('handshake', [hsCell(1)]))
  t.ok(md.includes('| full handshake CPU \\| ratio <&> |'), 'pipe escaped in the raw line')
  const { header, rows } = tableUnder(md, 'Targets')
  t.same(header, targetColumns)
  t.equal(rows.length, targets.length)
  targets.forEach((target, i) => {
    const row = rows[i] ?? []
    t.same([row[0], row[1], row[2], row[4]], [target.name, target.measures ?? '—', target.rule, target.met ? '✓ met' : '✗ not met'])
    shows(t, row[3], target.value, 3, 'target value')
  })
})

t.test('empty report sections say so instead of an empty table', async (t) => {
  const md = renderMarkdown(report('handshake', [], []))
  t.match(md, /No cells were measured\./)
  t.match(md, /No targets were checked\./)
  t.match(renderMarkdown(report('proxy', [], [])), /No modes were measured\./)
})

t.test('a profiled pooled run adds its breakdown section, or says why there is none', async (t) => {
  const parts = [{ name: 'access log', percent: 4.25 }, { name: 'metrics', percent: 2 }, { name: 'socket writes', percent: 38.5 }]
  const md = renderMarkdown(report('proxy', [{ ...pxRun(2, 'pooled'), profile: { busyMs: 2150.4, samples: 8000, parts } }]))
  const lines = md.split('\n')
  const at = lines.findIndex((l) => l.startsWith('## Where a pooled request\'s time goes'))
  t.ok(at > 0, 'the section is there')
  t.match(lines[at + 2], /^2150 ms of busy time in 8000 samples/)
  const table = lines.slice(at + 4)
  const rows = table.slice(0, table.findIndex((l) => !l.startsWith('|'))).map(splitRow)
  t.same(rows, [['part', '% of busy time'], ['--|--'], ['access log', '4.3'], ['metrics', '2.0'], ['socket writes', '38.5']])
  const failed = renderMarkdown(report('proxy', [{ ...pxRun(2, 'pooled'), profile: { busyMs: 0, samples: 0, parts: [], error: 'no .cpuprofile was written' } }]))
  t.match(failed, /## Where a pooled request's time goes[^\n]*\n\nNo breakdown: no \.cpuprofile was written/)
  t.notMatch(renderMarkdown(report('proxy', [pxRun(2, 'pooled')])), /Where a pooled request/, 'no section without a profile')
})
