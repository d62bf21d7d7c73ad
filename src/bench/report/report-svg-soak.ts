/**
 * The chart of a `bench soak` report: RSS (MiB) and open descriptors of the proxy over time,
 * the warm-up shaded and the RSS limit drawn. Self-contained SVG 1.1 like report-svg.ts.
 */
import type { BenchReport } from '../report-model.ts'
import { environmentSummary, formatNumber } from './report-markdown.ts'
import { escapeXml, niceScale } from './report-svg.ts'
import { RSS_LIMIT_MB } from '../proxy/proxy-targets.ts'

const sans = 'font-family="DejaVu Sans, Arial, Helvetica, sans-serif"'
const n = (v: number): string => String(Math.round(v * 100) / 100)

/** Returns the chart as SVG text (an empty plot when the report has no soak samples). */
export function renderSoakSvg (report: BenchReport): string {
  const soak = report.soak
  const samples = soak?.samples ?? []
  const width = 760
  const left = 70
  const right = width - 70
  const panels = [
    { name: 'RSS of the proxy process tree (MiB)', color: '#2b6cb0', value: (s: typeof samples[number]) => s.rssKb / 1024, limit: RSS_LIMIT_MB },
    { name: 'open file descriptors', color: '#d69e2e', value: (s: typeof samples[number]) => s.fds, limit: undefined }
  ]
  const height = 110 + panels.length * 230
  const seconds = Math.max(1, ...samples.map((s) => s.atSeconds))
  const x = (t: number): number => left + (t / seconds) * (right - left)
  const title = `spiffe-lb bench soak — ${report.environment.startedAt}`
  const out = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">`,
    `<title>${escapeXml(title)}</title>`,
    `<rect x="0" y="0" width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="20" y="28" ${sans} font-size="16" font-weight="bold" fill="#1a202c">${escapeXml(title)}</text>`,
    `<text x="20" y="48" ${sans} font-size="11" fill="#4a5568">${escapeXml(environmentSummary(report.environment))}</text>`,
    `<text x="20" y="66" ${sans} font-size="11" fill="#4a5568">${escapeXml(`${soak?.requests ?? 0} requests, ${soak?.rotations ?? 0} SVID rotations; RSS slope after warm-up ${formatNumber(soak?.rssSlopeKbPerMinute ?? 0, 0)} KiB/min`)}</text>`
  ]
  panels.forEach((p, i) => {
    const top = 100 + i * 230
    const bottom = top + 180
    const values = samples.map(p.value)
    const { step, top: axisTop } = niceScale(Math.max(1, ...values, p.limit ?? 0))
    const y = (v: number): number => bottom - (v / axisTop) * (bottom - top)
    out.push(`<text x="${left}" y="${top - 10}" ${sans} font-size="13" font-weight="bold" fill="#1a202c">${escapeXml(p.name)}</text>`)
    if (soak !== undefined) out.push(`<rect x="${left}" y="${top}" width="${n(x(Math.min(seconds, soak.warmupMs / 1000)) - left)}" height="${bottom - top}" fill="#edf2f7"/>`)
    for (let v = 0; v <= axisTop + step / 2; v += step) {
      out.push(`<line x1="${left}" y1="${n(y(v))}" x2="${right}" y2="${n(y(v))}" stroke="${v === 0 ? '#2d3748' : '#e2e8f0'}" stroke-width="1"/>`,
        `<text x="${left - 8}" y="${n(y(v) + 4)}" ${sans} font-size="11" text-anchor="end" fill="#2d3748">${formatNumber(v, 0)}</text>`)
    }
    if (p.limit !== undefined) out.push(`<line class="limit" x1="${left}" y1="${n(y(p.limit))}" x2="${right}" y2="${n(y(p.limit))}" stroke="#e53e3e" stroke-width="2" stroke-dasharray="6,4"/>`)
    if (samples.length > 0) {
      out.push(`<polyline class="series" data-panel="${i}" fill="none" stroke="${p.color}" stroke-width="2" points="${samples.map((s, j) => `${n(x(s.atSeconds))},${n(y(values[j] ?? 0))}`).join(' ')}"/>`)
    }
    out.push(`<text x="${n((left + right) / 2)}" y="${bottom + 30}" ${sans} font-size="11" text-anchor="middle" fill="#2d3748">seconds (shaded: warm-up)</text>`,
      `<text x="${right}" y="${bottom + 16}" ${sans} font-size="11" text-anchor="end" fill="#2d3748">${formatNumber(seconds, 0)}</text>`)
  })
  out.push('</svg>')
  return `${out.join('\n')}\n`
}
