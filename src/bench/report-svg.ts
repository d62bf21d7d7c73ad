/**
 * The SVG chart of a benchmark report (docs/architecture.md#process-model: grouped
 * bars of throughput and CPU cost, spiffe-lb next to its same-run baseline, per cell or mode.
 * Hand-written, self-contained SVG 1.1 (presentation attributes only, no CSS or script), so
 * any viewer or converter draws it the same way.
 */
import type { BenchReport } from './report.ts'
import { environmentSummary, formatNumber } from './report-markdown.ts'

/** One group of two bars (subject, baseline) per panel. */
interface Group { label: string, values: [[number, number], [number, number]], ratio: number }

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
        ratio: c.ratio.cpuPerHandshake
      }))
    }
  }
  return {
    panels: ['requests per second', 'proxy CPU µs per request'],
    legend: ['spiffe-lb proxy', 'undici forwarder (baseline)'],
    groups: (report.proxy ?? []).map((r) => ({
      label: `${r.mode}${r.protocol === 'h2' ? ' h2' : ''} · ${r.workers} worker${r.workers === 1 ? '' : 's'}`,
      values: [[r.subject.requestsPerSecond, r.baseline.requestsPerSecond],
        [r.subject.cpuMicrosPerRequest, r.baseline.cpuMicrosPerRequest]],
      ratio: r.ratio.cpuPerRequest
    }))
  }
}

/**
 * Returns a self-contained SVG document: title with the environment, a legend, and two panels
 * (throughput, CPU per handshake or request) of grouped bars with y axes and ticks, the CPU
 * ratio per group, and the numbered group labels rotated under the lower panel. Each bar is a
 * `rect class="bar"` carrying `data-panel`, `data-series` and `data-value`.
 */
export function renderSvg (report: BenchReport): string {
  const { panels, legend, groups } = spec(report)
  const count = Math.max(1, groups.length)
  const labels = groups.map((g, i) => `${i + 1} ${g.label}`)
  const labelExtent = Math.max(0, ...labels.map((l) => l.length)) * labelSize * charWidth * Math.SQRT1_2
  const title = `spiffe-lb bench ${report.kind} — ${report.environment.startedAt}`
  const subtitle = environmentSummary(report.environment)
  const groupWidth = Math.max(count <= 4 ? 120 : count <= 20 ? 48 : 30, 420 / count)
  const plotWidth = groupWidth * count
  const left = Math.max(80, labelExtent - groupWidth / 2 + 12)
  const width = Math.max(left + plotWidth + 30, subtitle.length * 11 * 0.6 + 40, 640)
  const tops = [112, 112 + panelHeight + 52]
  const labelTop = (tops[1] ?? 0) + panelHeight + 34
  const height = labelTop + labelExtent + 20
  const barWidth = Math.min(40, groupWidth * 0.36)
  const out: string[] = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="${n(width)}" height="${n(height)}" viewBox="0 0 ${n(width)} ${n(height)}">`,
    `<title>${escapeXml(title)}</title>`,
    `<rect x="0" y="0" width="${n(width)}" height="${n(height)}" fill="#ffffff"/>`,
    `<text x="20" y="28" ${sans} font-size="16" font-weight="bold" fill="#1a202c">${escapeXml(title)}</text>`,
    `<text x="20" y="48" ${sans} font-size="11" fill="#4a5568">${escapeXml(subtitle)}</text>`
  ]
  legend.forEach((text, i) => {
    const x = 20 + i * 260
    out.push(`<rect x="${x}" y="60" width="14" height="14" fill="${colors[i]}"/>`,
      `<text x="${x + 20}" y="71" ${sans} font-size="12" fill="#1a202c">${escapeXml(text)}</text>`)
  })
  panels.forEach((name, p) => {
    const top = tops[p] ?? 0
    const bottom = top + panelHeight
    const values = groups.flatMap((g) => g.values[p === 0 ? 0 : 1].map(clean))
    const { step, top: axisTop } = niceScale(Math.max(0, ...values))
    const y = (v: number): number => bottom - (v / axisTop) * panelHeight
    out.push(`<g class="panel" data-panel="${p}">`,
      `<text x="${n(left)}" y="${top - 10}" ${sans} font-size="13" font-weight="bold" fill="#1a202c">${escapeXml(name)}</text>`)
    for (let v = 0; v <= axisTop + step / 2; v += step) {
      out.push(`<line x1="${n(left)}" y1="${n(y(v))}" x2="${n(left + plotWidth)}" y2="${n(y(v))}" stroke="${v === 0 ? '#2d3748' : '#e2e8f0'}" stroke-width="1"/>`,
        `<line x1="${n(left - 5)}" y1="${n(y(v))}" x2="${n(left)}" y2="${n(y(v))}" stroke="#2d3748" stroke-width="1"/>`,
        `<text x="${n(left - 8)}" y="${n(y(v) + 4)}" ${sans} font-size="11" text-anchor="end" fill="#2d3748">${escapeXml(tickLabel(v, step))}</text>`)
    }
    out.push(`<line x1="${n(left)}" y1="${top}" x2="${n(left)}" y2="${bottom}" stroke="#2d3748" stroke-width="1"/>`)
    groups.forEach((g, i) => {
      const center = left + groupWidth * (i + 0.5)
      g.values[p === 0 ? 0 : 1].forEach((raw, s) => {
        const v = clean(raw)
        const x = center + (s === 0 ? -barWidth : 0)
        out.push(`<rect class="bar" data-panel="${p}" data-series="${series[s]}" data-value="${v}" x="${n(x)}" y="${n(y(v))}" width="${n(barWidth)}" height="${n(bottom - y(v))}" fill="${colors[s]}"/>`)
        if (count <= 8) {
          out.push(`<text x="${n(x + barWidth / 2)}" y="${n(y(v) - 4)}" ${sans} font-size="10" text-anchor="middle" fill="#2d3748">${formatNumber(raw, 0)}</text>`)
        }
      })
      // Under the upper panel: the group's number, which the labels under the lower panel repeat.
      const under = p === 0 ? String(i + 1) : `${formatNumber(g.ratio, 2)}`
      out.push(`<text x="${n(center)}" y="${bottom + 16}" ${mono} font-size="10" text-anchor="middle" fill="#2d3748">${escapeXml(under)}</text>`)
    })
    const rowName = p === 0 ? '#' : 'CPU ratio'
    out.push(`<text x="${n(left - 8)}" y="${bottom + 16}" ${sans} font-size="10" text-anchor="end" fill="#4a5568">${rowName}</text>`)
    if (groups.length === 0) {
      out.push(`<text x="${n(left + plotWidth / 2)}" y="${top + panelHeight / 2}" ${sans} font-size="14" text-anchor="middle" fill="#718096">no data</text>`)
    }
    out.push('</g>')
  })
  labels.forEach((label, i) => {
    const x = left + groupWidth * (i + 0.5)
    out.push(`<text x="${n(x)}" y="${n(labelTop)}" ${mono} font-size="${labelSize}" text-anchor="end" transform="rotate(-45 ${n(x)} ${n(labelTop)})" fill="#1a202c">${escapeXml(label)}</text>`)
  })
  out.push('</svg>')
  return `${out.join('\n')}\n`
}
