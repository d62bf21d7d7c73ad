/**
 * The SVG chart of a benchmark report (docs/architecture.md#process-model: grouped
 * bars of throughput and CPU cost, spiffe-lb next to its same-run baseline, per cell or mode.
 * Hand-written, self-contained SVG 1.1 (presentation attributes only, no CSS or script), so
 * any viewer or converter draws it the same way.
 */
import type { BenchReport, Range } from '../report-model.ts'
import { rangeOf } from '../report-model.ts'
import { environmentSummary, formatNumber } from './report-markdown.ts'
import { UNDICI_CPU_LIMITS } from '../proxy/proxy-targets.ts'
import { HANDSHAKE_TARGETS } from '../handshake/handshake-checks.ts'

/**
 * One group of two bars (subject, baseline) per panel; `limit` is the CPU ratio target (drawn
 * at baseline × limit), `spread` the min–max over slices of the CPU bars (subject, baseline).
 */
interface Group { label: string, values: [[number, number], [number, number]], ratio: number, limit?: number, spread?: [Range | undefined, Range | undefined] }

interface ChartSpec { panels: [string, string], legend: [string, string], groups: Group[] }

const colors = ['#2b6cb0', '#a0aec0'] as const
const series = ['subject', 'baseline'] as const
const sans = 'font-family="DejaVu Sans, Arial, Helvetica, sans-serif"'
const mono = 'font-family="DejaVu Sans Mono, Menlo, Consolas, monospace"'
// Monospace labels make their width predictable (≈ 0.62 em per character), so the margins that
// rotated labels need can be computed without a browser measuring text.
const charWidth = 0.62
const labelSize = 11
const panelHeight = 200
/** Up to this many groups the labels stand upright under the chart and each group gets a headline ratio. */
const FEW_GROUPS = 8
/** Labels up to this long stand upright; longer ones are numbered and rotated. */
const UPRIGHT_LABEL_CHARS = 24
const MET = '#276749'
const UNMET = '#c53030'

/** Escapes text for XML character data and attribute values. */
export function escapeXml (text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)
}

/** Coordinates with at most two decimals keep the file small and diffable. */
const n = (v: number): string => String(Math.round(v * 100) / 100)
/** Non-finite or negative measurements draw as empty bars rather than breaking the geometry. */
const clean = (v: number): number => (Number.isFinite(v) && v > 0 ? v : 0)

/** Returns a 1/2/2.5/5 × 10^k step and the axis top covering `max` in about five ticks. */
export function niceScale (max: number): { step: number, top: number } {
  const m = max > 0 ? max : 1
  const rough = m / 5
  const mag = 10 ** Math.floor(Math.log10(rough))
  const norm = rough / mag
  const step = (norm <= 1 ? 1 : norm <= 2 ? 2 : norm <= 2.5 ? 2.5 : norm <= 5 ? 5 : 10) * mag
  return { step, top: Math.ceil(m / step - 1e-9) * step }
}

function tickLabel (v: number, step: number): string {
  let decimals = 0
  while (decimals < 6 && Math.abs(step * 10 ** decimals - Math.round(step * 10 ** decimals)) > 1e-6) decimals++
  return formatNumber(v, decimals)
}

function spec (report: BenchReport): ChartSpec {
  if (report.kind === 'handshake') {
    return {
      panels: ['handshakes per second', 'CPU µs per handshake (measuring process)'],
      legend: ['spiffe-lb connector', 'bare tls.connect (baseline)'],
      groups: (report.handshake ?? []).map((c) => ({
        label: c.id,
        values: [[c.subject.handshakesPerSecond, c.baseline.handshakesPerSecond],
          [c.subject.cpuMicrosPerHandshake, c.baseline.cpuMicrosPerHandshake]],
        ratio: c.ratio.cpuPerHandshake,
        limit: c.mode === 'full' ? HANDSHAKE_TARGETS.fullCpu.limit : HANDSHAKE_TARGETS.resumedCpu.limit
      }))
    }
  }
  const runs = report.proxy ?? []
  const fewest = Math.min(...runs.map((r) => r.workers))
  return {
    panels: ['requests per second', 'proxy CPU µs per request'],
    legend: ['spiffe-lb proxy', 'undici forwarder (baseline)'],
    groups: runs.map((r) => {
      const limit = r.workers === fewest && r.protocol !== 'h2' ? (UNDICI_CPU_LIMITS as Partial<Record<string, number>>)[r.mode] : undefined
      return {
        label: `${r.mode}${r.protocol === 'h2' ? ' h2' : ''} · ${r.workers} worker${r.workers === 1 ? '' : 's'}`,
        values: [[r.subject.requestsPerSecond, r.baseline.requestsPerSecond],
          [r.subject.cpuMicrosPerRequest, r.baseline.cpuMicrosPerRequest]],
        ratio: r.ratio.cpuPerRequest,
        ...(limit === undefined ? {} : { limit }),
        spread: [rangeOf(r.subject.cpuMicrosPerRequestBySlice), rangeOf(r.baseline.cpuMicrosPerRequestBySlice)]
      }
    })
  }
}

/** Returns `text` split at ` · ` into lines of at most `chars` characters. */
export function splitLine (text: string, chars: number): string[] {
  const out: string[] = []
  for (const part of text.split(' · ')) {
    const last = out[out.length - 1]
    if (last !== undefined && last.length + 3 + part.length <= chars) out[out.length - 1] = `${last} · ${part}`
    else out.push(part)
  }
  return out
}

/**
 * Returns a self-contained SVG document: title with the environment, a legend, and two panels
 * (throughput, CPU per handshake or request) of grouped bars with y axes and ticks. Up to eight
 * groups, each CPU group is headed by its CPU ratio in large type (green when its target is
 * met, red when not) and the labels stand upright under the chart; more groups get the ratio in
 * a row under the panel and rotated, numbered labels. Where a target applies, a dashed `line
 * class="target"` marks baseline × limit; where slices were measured, `line class="spread"`
 * whiskers show their min–max. Each bar is a `rect class="bar"` carrying `data-panel`,
 * `data-series` and `data-value`; each headline a `text class="headline"`.
 */
export function renderSvg (report: BenchReport): string {
  const { panels, legend, groups } = spec(report)
  const count = Math.max(1, groups.length)
  // Headlines need room per group; upright labels need short ones (handshake cell ids are long).
  const headlines = groups.length <= FEW_GROUPS
  const few = headlines && Math.max(0, ...groups.map((g) => g.label.length)) <= UPRIGHT_LABEL_CHARS
  const labels = groups.map((g, i) => few ? g.label : `${i + 1} ${g.label}`)
  const labelExtent = few ? 0 : Math.max(0, ...labels.map((l) => l.length)) * labelSize * charWidth * Math.SQRT1_2
  const title = `spiffe-lb bench ${report.kind} — ${report.environment.startedAt}`
  const groupWidth = few
    ? Math.max(120, 40 + Math.max(0, ...labels.map((l) => l.length)) * labelSize * charWidth)
    : Math.max(headlines ? 110 : count <= 20 ? 48 : 30, 420 / count)
  const plotWidth = groupWidth * count
  const left = few ? 64 : Math.max(80, labelExtent - groupWidth / 2 + 12)
  const width = Math.max(left + plotWidth + 20, title.length * 16 * 0.6 + 40, 420)
  const subtitle = splitLine(environmentSummary(report.environment), Math.floor((width - 40) / 6.2))
  const legendY = 48 + 14 * subtitle.length
  const headRoom = headlines ? 34 : 0
  const tops = [legendY + 52, legendY + 52 + panelHeight + 52 + headRoom]
  const labelTop = (tops[1] ?? 0) + panelHeight + (few ? 20 : 34)
  const height = labelTop + (few ? 10 : labelExtent + 20)
  const barWidth = Math.min(40, groupWidth * 0.36)
  const out: string[] = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="${n(width)}" height="${n(height)}" viewBox="0 0 ${n(width)} ${n(height)}">`,
    `<title>${escapeXml(title)}</title>`,
    `<rect x="0" y="0" width="${n(width)}" height="${n(height)}" fill="#ffffff"/>`,
    `<text x="16" y="26" ${sans} font-size="16" font-weight="bold" fill="#1a202c">${escapeXml(title)}</text>`,
    ...subtitle.map((line, i) => `<text x="16" y="${44 + 14 * i}" ${sans} font-size="10" fill="#4a5568">${escapeXml(line)}</text>`)
  ]
  legend.forEach((text, i) => {
    const x = 16 + i * 200
    out.push(`<rect x="${x}" y="${legendY - 11}" width="12" height="12" fill="${colors[i]}"/>`,
      `<text x="${x + 16}" y="${legendY}" ${sans} font-size="11" fill="#1a202c">${escapeXml(text)}</text>`)
  })
  if (groups.some((g) => g.limit !== undefined)) {
    out.push(`<line x1="16" y1="${legendY + 12}" x2="40" y2="${legendY + 12}" stroke="${UNMET}" stroke-width="2" stroke-dasharray="6,4"/>`,
      `<text x="44" y="${legendY + 16}" ${sans} font-size="11" fill="#1a202c">target: baseline × limit</text>`)
  }
  if (groups.some((g) => g.spread?.some((r) => r !== undefined) === true)) {
    out.push(`<line x1="216" y1="${legendY + 6}" x2="216" y2="${legendY + 18}" stroke="#1a202c" stroke-width="1.5"/>`,
      `<text x="222" y="${legendY + 16}" ${sans} font-size="11" fill="#1a202c">min–max over slices</text>`)
  }
  panels.forEach((name, p) => {
    const top = tops[p] ?? 0
    const bottom = top + panelHeight
    const cpu = p === 1
    const values = groups.flatMap((g) => [...g.values[cpu ? 1 : 0].map(clean),
      ...(cpu ? [...(g.spread ?? []).map((r) => clean(r?.max ?? 0)), g.limit === undefined ? 0 : clean(g.values[1][1] * g.limit)] : [])])
    const { step, top: axisTop } = niceScale(Math.max(0, ...values))
    const y = (v: number): number => bottom - (v / axisTop) * panelHeight
    out.push(`<g class="panel" data-panel="${p}">`,
      `<text x="${n(left)}" y="${top - (cpu && headlines ? 44 : 10)}" ${sans} font-size="13" font-weight="bold" fill="#1a202c">${escapeXml(name)}${cpu && headlines ? escapeXml(' — headline: CPU ratio spiffe-lb ÷ baseline') : ''}</text>`)
    for (let v = 0; v <= axisTop + step / 2; v += step) {
      out.push(`<line x1="${n(left)}" y1="${n(y(v))}" x2="${n(left + plotWidth)}" y2="${n(y(v))}" stroke="${v === 0 ? '#2d3748' : '#e2e8f0'}" stroke-width="1"/>`,
        `<line x1="${n(left - 5)}" y1="${n(y(v))}" x2="${n(left)}" y2="${n(y(v))}" stroke="#2d3748" stroke-width="1"/>`,
        `<text x="${n(left - 8)}" y="${n(y(v) + 4)}" ${sans} font-size="11" text-anchor="end" fill="#2d3748">${escapeXml(tickLabel(v, step))}</text>`)
    }
    out.push(`<line x1="${n(left)}" y1="${top}" x2="${n(left)}" y2="${bottom}" stroke="#2d3748" stroke-width="1"/>`)
    groups.forEach((g, i) => {
      const center = left + groupWidth * (i + 0.5)
      g.values[cpu ? 1 : 0].forEach((raw, s) => {
        const v = clean(raw)
        const x = center + (s === 0 ? -barWidth : 0)
        out.push(`<rect class="bar" data-panel="${p}" data-series="${series[s]}" data-value="${v}" x="${n(x)}" y="${n(y(v))}" width="${n(barWidth)}" height="${n(bottom - y(v))}" fill="${colors[s]}"/>`)
        const spread = cpu ? g.spread?.[s] : undefined
        const cx = x + barWidth / 2
        if (spread !== undefined) {
          out.push(`<line class="spread" data-series="${series[s]}" data-min="${spread.min}" data-max="${spread.max}" x1="${n(cx)}" y1="${n(y(clean(spread.min)))}" x2="${n(cx)}" y2="${n(y(clean(spread.max)))}" stroke="#1a202c" stroke-width="1.5"/>`,
            `<line x1="${n(cx - 4)}" y1="${n(y(clean(spread.max)))}" x2="${n(cx + 4)}" y2="${n(y(clean(spread.max)))}" stroke="#1a202c" stroke-width="1.5"/>`,
            `<line x1="${n(cx - 4)}" y1="${n(y(clean(spread.min)))}" x2="${n(cx + 4)}" y2="${n(y(clean(spread.min)))}" stroke="#1a202c" stroke-width="1.5"/>`)
        }
        if (count <= 8) {
          const labelY = Math.min(y(v), spread === undefined ? y(v) : y(clean(spread.max))) - 4
          out.push(`<text x="${n(cx)}" y="${n(labelY)}" ${sans} font-size="10" text-anchor="middle" fill="#2d3748">${formatNumber(raw, 0)}</text>`)
        }
      })
      const met = g.limit === undefined ? undefined : g.ratio > 0 && g.ratio <= g.limit
      if (cpu && g.limit !== undefined) {
        const t = clean(g.values[1][1] * g.limit)
        out.push(`<line class="target" data-group="${i}" data-value="${t}" data-limit="${g.limit}" x1="${n(center - barWidth - 6)}" y1="${n(y(t))}" x2="${n(center + barWidth + 6)}" y2="${n(y(t))}" stroke="${UNMET}" stroke-width="2" stroke-dasharray="6,4"/>`)
      }
      if (cpu && headlines) {
        const color = met === undefined ? '#1a202c' : met ? MET : UNMET
        out.push(`<text class="headline" data-group="${i}" data-value="${clean(g.ratio)}"${g.limit === undefined ? '' : ` data-limit="${g.limit}" data-met="${String(met)}"`} x="${n(center)}" y="${top - 18}" ${sans} font-size="18" font-weight="bold" text-anchor="middle" fill="${color}">${escapeXml(`${formatNumber(g.ratio, 2)}×`)}</text>`)
        if (g.limit !== undefined) {
          out.push(`<text x="${n(center)}" y="${top - 5}" ${sans} font-size="10" text-anchor="middle" fill="#2d3748">${escapeXml(`target ≤ ${formatNumber(g.limit, 2)}× ${met === true ? '✓' : '✗'}`)}</text>`)
        }
      } else if (!few && !(cpu && headlines)) {
        // Many groups: under the upper panel the group's number (repeated by the rotated labels), under the lower its ratio.
        const under = p === 0 ? String(i + 1) : `${formatNumber(g.ratio, 2)}`
        out.push(`<text x="${n(center)}" y="${bottom + 16}" ${mono} font-size="10" text-anchor="middle" fill="#2d3748">${escapeXml(under)}</text>`)
      }
    })
    if (!few && !(cpu && headlines)) {
      const rowName = p === 0 ? '#' : 'CPU ratio'
      out.push(`<text x="${n(left - 8)}" y="${bottom + 16}" ${sans} font-size="10" text-anchor="end" fill="#4a5568">${rowName}</text>`)
    }
    if (few && p === 0) {
      groups.forEach((g, i) => {
        out.push(`<text x="${n(left + groupWidth * (i + 0.5))}" y="${bottom + 16}" ${mono} font-size="${labelSize}" text-anchor="middle" fill="#1a202c">${escapeXml(g.label)}</text>`)
      })
    }
    if (groups.length === 0) {
      out.push(`<text x="${n(left + plotWidth / 2)}" y="${top + panelHeight / 2}" ${sans} font-size="14" text-anchor="middle" fill="#718096">no data</text>`)
    }
    out.push('</g>')
  })
  labels.forEach((label, i) => {
    const x = left + groupWidth * (i + 0.5)
    out.push(few
      ? `<text x="${n(x)}" y="${n(labelTop)}" ${mono} font-size="${labelSize}" text-anchor="middle" fill="#1a202c">${escapeXml(label)}</text>`
      : `<text x="${n(x)}" y="${n(labelTop)}" ${mono} font-size="${labelSize}" text-anchor="end" transform="rotate(-45 ${n(x)} ${n(labelTop)})" fill="#1a202c">${escapeXml(label)}</text>`)
  })
  out.push('</svg>')
  return `${out.join('\n')}\n`
}
