import t from 'tap'
import { ratio, type BenchReport, type HandshakeCell, type HandshakeSample, type ProxyRun, type ProxySample } from '../report-model.ts'
import { escapeXml, niceScale, renderSvg } from './report-svg.ts'

// --- a small report builder (values differ per cell; `hs`/`cpu` override the subject side) ---
function hsSample (hs: number, cpu: number): HandshakeSample {
  return {
    handshakes: Math.round(hs), errors: 0, durationMs: 1000, handshakesPerSecond: hs, cpuMicrosPerHandshake: cpu,
    latencyMs: { p50: 1, p90: 2, p99: 3 }, resumedFraction: 0, negotiated: undefined, errorSamples: []
  }
}
function hsCell (i: number, id = `RSA_2048/leaf+intermediate+root/TLSv1.2/P-256/resumed#${i}`, hs = 1500 + i * 37.5, cpu = 700 + i * 11.25): HandshakeCell {
  const s = hsSample(hs, cpu)
  const b = hsSample(1400 + i * 21, 650 + i * 9)
  return {
    id, keyAlgorithm: 'RSA_2048', chainDepth: 2, tlsVersion: 'TLSv1.2', group: 'P-256', mode: 'resumed', subject: s, baseline: b,
    ratio: { cpuPerHandshake: ratio(cpu, b.cpuMicrosPerHandshake), handshakesPerSecond: ratio(hs, b.handshakesPerSecond) }
  }
}
function pxSample (rps: number, cpu: number): ProxySample {
  return {
    requests: 100, non2xx: 0, errors: 0, durationMs: 1000, requestsPerSecond: rps, latencyMs: { p50: 1, p90: 2, p99: 3 }, cpuMicrosPerRequest: cpu,
    backend: { requests: 100, connections: 100, resumed: 0, newConnectionsPerRequest: 1, resumedFraction: 0 }
  }
}
function pxRun (mode: ProxyRun['mode'], workers: number, rps: number, cpu: number): ProxyRun {
  const s = pxSample(rps, cpu)
  const b = pxSample(rps * 0.9, cpu * 1.2)
  return { mode, workers, subject: s, baseline: b, ratio: { cpuPerRequest: ratio(cpu, b.cpuMicrosPerRequest), requestsPerSecond: ratio(rps, b.requestsPerSecond) } }
}
function report (kind: BenchReport['kind'], rows: HandshakeCell[] | ProxyRun[]): BenchReport {
  return {
    kind, version: 1, options: {}, targets: [], ...(kind === 'handshake' ? { handshake: rows as HandshakeCell[] } : { proxy: rows as ProxyRun[] }),
    environment: { spiffeLb: '0.3.0', node: 'v24.21.0', openssl: '3.0.13', undici: '8.12.4', platform: 'Linux <6.8> & co', arch: 'x64', cpuModel: 'AMD "EPYC" \'7B13\'', cpus: 2, startedAt: '2025-06-01T10:00:00.000Z' }
  }
}

// --- reading the SVG back ---
const tagPattern = /<(\/?)([A-Za-z][\w:.-]*)((?:\s+[\w:.-]+="[^"<]*")*)\s*(\/?)>/y
/** Returns null when `xml` is well-formed (one root, balanced tags, quoted attributes, escaped text), else why not. */
function wellFormedError (xml: string): string | null {
  const body = xml.replace(/^<\?xml [^?]*\?>\n/, '')
  const stack: string[] = []
  let roots = 0
  let i = 0
  while (i < body.length) {
    const lt = body.indexOf('<', i)
    const text = body.slice(i, lt === -1 ? body.length : lt)
    if (/&(?!#\d+;|amp;|lt;|gt;|quot;|apos;)|>/.test(text)) return `unescaped text ${JSON.stringify(text)}`
    if (stack.length === 0 && text.trim() !== '') return 'text outside the root'
    if (lt === -1) break
    tagPattern.lastIndex = lt
    const m = tagPattern.exec(body)
    if (m === null) return `bad tag at ${body.slice(lt, lt + 40)}`
    const [all, close, name = '', attrs = '', selfClose] = m
    for (const [, value] of attrs.matchAll(/="([^"]*)"/g)) if (/&(?!#\d+;|amp;|lt;|gt;|quot;|apos;)|>/.test(value ?? '')) return `unescaped attribute in ${all}`
    if (close === '/') { if (stack.pop() !== name) return `unbalanced </${name}>` } else if (selfClose !== '/') { if (stack.length === 0) roots++; stack.push(name) } else if (stack.length === 0) roots++
    i = lt + all.length
  }
  return stack.length === 0 && roots === 1 ? null : `open tags ${stack.join(',')}, roots ${roots}`
}
interface Bar { panel: number, series: string, value: number, y: number, height: number }
function bars (svg: string): Bar[] {
  return [...svg.matchAll(/<rect class="bar" data-panel="(\d)" data-series="(\w+)" data-value="([^"]+)" x="[^"]+" y="([^"]+)" width="[^"]+" height="([^"]+)"/g)]
    .map(([, panel, series = '', value, y, height]) => ({ panel: Number(panel), series, value: Number(value), y: Number(y), height: Number(height) }))
}
/** The [subject, baseline] values each panel must draw, per group, in order. */
function expected (r: BenchReport): number[][] {
  const g = r.kind === 'handshake'
    ? (r.handshake ?? []).map((c) => [[c.subject.handshakesPerSecond, c.baseline.handshakesPerSecond], [c.subject.cpuMicrosPerHandshake, c.baseline.cpuMicrosPerHandshake]])
    : (r.proxy ?? []).map((p) => [[p.subject.requestsPerSecond, p.baseline.requestsPerSecond], [p.subject.cpuMicrosPerRequest, p.baseline.cpuMicrosPerRequest]])
  return [0, 1].map((p) => g.flatMap((x) => x[p] ?? []))
}

const cases: Array<[string, BenchReport, string[]]> = [
  ['one handshake cell', report('handshake', [hsCell(0)]), ['RSA_2048/leaf+intermediate+root/TLSv1.2/P-256/resumed#0']],
  ['80 handshake cells', report('handshake', Array.from({ length: 80 }, (_, i) => hsCell(i))), ['80 RSA_2048/leaf+intermediate+root/TLSv1.2/P-256/resumed#79']],
  ['zero and non-finite values', report('handshake', [hsCell(0, 'zero', 0, 0), hsCell(1, 'nan', Number.NaN, Number.POSITIVE_INFINITY), hsCell(2)]), ['2 nan']],
  ['escaped names', report('handshake', [hsCell(0, 'a|b <&> "q" \'s\'')]), [escapeXml('a|b <&> "q" \'s\''), 'Linux &#60;6.8&#62; &#38; co', 'AMD &#34;EPYC&#34;']],
  ['proxy, three modes', report('proxy', [pxRun('fresh', 1, 900, 1000), pxRun('resumed', 1, 1300, 600), pxRun('pooled', 1, 9000, 55)]), ['pooled · 1 worker', 'requests per second', '0.83×']],
  ['proxy, 2 workers', report('proxy', [pxRun('fresh', 1, 900, 1000), pxRun('fresh', 2, 1700, 980)]), ['fresh · 2 workers', 'undici forwarder']],
  ['no cells', report('handshake', []), ['no data']]
]
for (const [name, r, texts] of cases) {
  t.test(`svg: ${name}`, async (t) => {
    const svg = renderSvg(r)
    t.equal(wellFormedError(svg), null, 'well-formed XML')
    t.notMatch(svg, /NaN|undefined|Infinity/)
    t.match(svg, /^<\?xml version="1.0" encoding="UTF-8"\?>\n<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/)
    t.ok(svg.includes(`spiffe-lb bench ${r.kind} — 2025-06-01T10:00:00.000Z`), 'title with kind and start')
    t.ok(svg.includes('Node v24.21.0 · OpenSSL 3.0.13 · undici 8.12.4'), 'title with environment')
    for (const text of texts) t.ok(svg.includes(`>${text}<`) || svg.includes(text), `shows ${text}`)
    const all = bars(svg)
    const want = expected(r)
    for (const panel of [0, 1]) {
      const drawn = all.filter((b) => b.panel === panel)
      const values = want[panel] ?? []
      t.equal(drawn.length, values.length, `panel ${panel}: two bars per group`)
      t.same(drawn.map((b) => b.series), values.map((_, i) => (i % 2 === 0 ? 'subject' : 'baseline')))
      t.same(drawn.map((b) => b.value), values.map((v) => (Number.isFinite(v) && v > 0 ? v : 0)), 'bar values are the report values')
      const baseline = new Set(drawn.map((b) => Math.round((b.y + b.height) * 10)))
      t.ok(baseline.size <= 1, 'bars stand on one axis')
      const max = Math.max(...drawn.map((b) => b.value))
      const tallest = drawn.find((b) => b.value === max)
      for (const b of drawn) {
        if (tallest === undefined || max === 0) { t.equal(b.height, 0); continue }
        t.ok(Math.abs(b.height - (b.value / max) * tallest.height) <= 0.02, `height of ${b.value} is proportional`)
      }
      if (max > 0) t.ok((tallest?.height ?? 0) > 100, 'the tallest bar uses most of the panel')
    }
    const width = Number(/<svg [^>]*width="([\d.]+)"/.exec(svg)?.[1])
    for (const [, x, label] of svg.matchAll(/<text x="([\d.]+)"[^>]*rotate\(-45[^>]*>([^<]*)</g)) {
      const extent = (label ?? '').replace(/&#\d+;/g, '_').length * 11 * 0.62 * Math.SQRT1_2
      t.ok(Number(x) - extent >= 0 && Number(x) <= width, 'rotated label inside the chart')
    }
  })
}

t.test('80 cells spread wider than one, one cell is not stretched thin', async (t) => {
  const w = (r: BenchReport): number => Number(/width="([\d.]+)"/.exec(renderSvg(r))?.[1])
  t.ok(w(report('handshake', Array.from({ length: 80 }, (_, i) => hsCell(i)))) > 80 * 20)
  t.ok(w(report('handshake', [hsCell(0)])) >= 420)
})

const scales: Array<[number, number, number]> = [[0, 0.2, 1], [1, 0.2, 1], [7, 2, 8], [1234, 250, 1250], [1000, 200, 1000], [0.3, 0.1, 0.3], [98765, 20000, 100000]]
for (const [max, step, top] of scales) {
  t.test(`niceScale(${max})`, async (t) => {
    const s = niceScale(max)
    t.ok(Math.abs(s.step - step) < 1e-9, `step ${s.step}`)
    t.ok(Math.abs(s.top - top) < 1e-9, `top ${s.top}`)
    t.ok(s.top >= max)
  })
}

t.test('the well-formedness check catches broken XML', async (t) => {
  for (const bad of ['<svg><g></svg>', '<svg>a < b</svg>', '<svg>a & b</svg>', '<svg x="1>"/>', '<svg/><svg/>', 'x<svg/>']) t.not(wellFormedError(bad), null, bad)
  t.equal(wellFormedError('<svg a="&#38;"><text>&#60;ok&#62;</text></svg>'), null)
})

t.test('proxy: the CPU ratio heads each group, targets are drawn at baseline × limit, slices as whiskers', async (t) => {
  const runs = [pxRun('fresh', 1, 900, 1000), pxRun('resumed', 1, 1300, 600), pxRun('pooled', 1, 9000, 55)]
  const pooled = runs[2]
  if (pooled !== undefined) {
    pooled.subject.cpuMicrosPerRequestBySlice = [50, 60, 55]
    pooled.baseline.cpuMicrosPerRequestBySlice = [60, 70, 68]
  }
  const svg = renderSvg(report('proxy', runs))
  t.equal(wellFormedError(svg), null)
  // pxRun's baseline costs 1.2 × the subject: ratio 0.83, under fresh's 0.85 and pooled's 1.0.
  t.match(svg, /<text class="headline" data-group="0" data-value="0.8333333333333334" data-limit="0.85" data-met="true"[^>]*>0\.83×</)
  t.match(svg, /<text class="headline" data-group="1" data-value="0.8333333333333334"[^>]*>0\.83×</, 'resumed has no undici target')
  t.match(svg, /<line class="target" data-group="0" data-value="1020" data-limit="0.85"/)
  t.match(svg, /<line class="target" data-group="2" data-value="66" data-limit="1"/)
  t.notMatch(svg, /class="target" data-group="1"/)
  t.match(svg, /<line class="spread" data-series="subject" data-min="50" data-max="60"/)
  t.match(svg, /<line class="spread" data-series="baseline" data-min="60" data-max="70"/)
  t.match(svg, />target ≤ 0\.85× ✓</)
  const width = Number(/<svg [^>]*width="([\d.]+)"/.exec(svg)?.[1])
  t.ok(width < 650, `three groups need no wide margin (${width} px)`)
})

t.test('handshake: a full cell over its limit is headed in red with ✗', async (t) => {
  const cell = hsCell(0)
  cell.mode = 'full'
  const svg = renderSvg(report('handshake', [cell]))
  t.match(svg, /<text class="headline" data-group="0" data-value="[\d.]+" data-limit="1.1" data-met="true"/)
  const slow = hsCell(1, 'slow', 1000, 2000)
  slow.mode = 'full'
  t.match(renderSvg(report('handshake', [slow])), /class="headline" data-group="0" data-value="[\d.]+" data-limit="1.1" data-met="false"[^>]*fill="#c53030"/)
})
