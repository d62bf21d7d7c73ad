// The traffic charts: plain SVG drawn from the sampler's points, each with its data as a table.
import { $, el, num, svg, swap, table, td, when } from './dom.js'

/** The charts: each a list of series read from the sampler's points. */
function chartSpecs (state) {
  const codes = [...new Set(state.points.flatMap((p) => Object.keys(p.errors)))].sort()
  return [
    { id: 'rps', title: 'Requests/s', series: [{ name: 'requests/s', get: (p) => p.rps }] },
    { id: 'latency', title: 'Latency (ms)', series: [{ name: 'p50 ms', get: (p) => p.p50 }, { name: 'p99 ms', get: (p) => p.p99 }] },
    { id: 'handshakes', title: 'Backend handshakes/s', series: [{ name: 'full/s', get: (p) => p.handshakesFull }, { name: 'resumed/s', get: (p) => p.handshakesResumed }] },
    { id: 'errors', title: 'Errors/s by code', series: codes.length === 0 ? [{ name: 'errors/s', get: () => 0 }] : codes.map((c) => ({ name: `${c}/s`, get: (p) => p.errors[c] ?? 0 })) }
  ]
}

export function renderTraffic (state) {
  const end = state.points.at(-1)?.t ?? Date.now()
  const points = state.points.filter((p) => p.t >= end - state.windowMs)
  $('traffic-window').textContent = `last ${Math.round(state.windowMs / 60000)} min, every ${state.intervalMs / 1000} s`
  const start = end - state.windowMs
  swap($('traffic-body'), chartSpecs(state).map((c) => {
    const values = points.flatMap((p) => c.series.map((s) => s.get(p) ?? 0))
    const max = niceMax(Math.max(0, ...values))
    const latest = c.series.map((s) => `${s.name} ${num(points.length === 0 ? null : s.get(points.at(-1)))}`).join(', ')
    const lines = c.series.map((s, i) => segments(points, s.get).map((seg) => svg('polyline', {
      class: `s${i % 5}`,
      points: seg.map((p) => `${(((p.t - start) / state.windowMs) * 600).toFixed(1)},${(120 - (s.get(p) / max) * 116).toFixed(1)}`).join(' ')
    })))
    return el('figure', { id: `chart-${c.id}`, 'data-max': Math.max(0, ...values) }, [
      el('figcaption', { text: c.title }),
      el('ul', { class: 'legend' }, c.series.map((s, i) => el('li', { class: `s${i % 5}` }, el('span', { text: s.name })))),
      svg('svg', { class: 'chart', role: 'img', 'aria-label': `${c.title} over the last ${Math.round(state.windowMs / 60000)} minutes; latest ${latest}; scale up to ${num(max)}` }, [
        svg('line', { class: 'grid', x1: '0', x2: '100%', y1: '4', y2: '4' }),
        svg('line', { class: 'grid', x1: '0', x2: '100%', y1: '62', y2: '62' }),
        svg('line', { class: 'grid', x1: '0', x2: '100%', y1: '120', y2: '120' }),
        svg('svg', { x: '0', y: '0', width: '100%', height: '120', viewBox: '0 0 600 120', preserveAspectRatio: 'none' }, lines),
        svg('text', { x: '2', y: '15', text: num(max) }),
        svg('text', { x: '2', y: '134', text: `-${Math.round(state.windowMs / 60000)} min` }),
        svg('text', { x: '100%', y: '134', 'text-anchor': 'end', text: 'now' })
      ]),
      el('details', { id: `table-${c.id}` }, [el('summary', { id: `summary-${c.id}`, text: `${c.title} as a table` }), chartTable(c, points)])
    ])
  }))
}

/** The chart's data as rows of 10 s averages, newest first (the whole window in 60 rows). */
function chartTable (c, points) {
  const buckets = new Map()
  for (const p of points) {
    const k = Math.floor(p.t / 10000) * 10000
    const b = buckets.get(k) ?? []
    b.push(p)
    buckets.set(k, b)
  }
  const rows = [...buckets].reverse().map(([k, ps]) => ({
    key: k,
    cells: [td(when(new Date(k).toISOString())), ...c.series.map((s) => {
      const vs = ps.map(s.get).filter((v) => v !== null)
      return td(vs.length === 0 ? '—' : num(vs.reduce((a, b) => a + b, 0) / vs.length), 'num')
    })]
  }))
  return table(`data-${c.id}`, `${c.title}, 10 second averages, newest first`, ['10 s from', ...c.series.map((s) => s.name)], rows)
}

/** Splits points into runs where `get` has a value (latency has none without requests). */
function segments (points, get) {
  const out = [[]]
  for (const p of points) {
    if (get(p) === null) { if (out.at(-1).length > 0) out.push([]) } else out.at(-1).push(p)
  }
  return out.filter((s) => s.length > 0)
}

function niceMax (v) {
  if (v <= 0) return 1
  const step = 10 ** Math.floor(Math.log10(v))
  return [1, 2, 2.5, 5, 10].map((m) => m * step).find((m) => m >= v) ?? v
}
