/**
 * The peer chart of a `bench proxy` report: CPU µs per request by mode and proxy (spiffe-lb, the
 * undici forwarder, nginx, HAProxy), with each mode's target drawn as a dashed line at nginx's
 * figure times the limit (NGINX_CPU_LIMITS). Self-contained SVG 1.1 like report-svg.ts.
 */
import type { BenchReport, ProxyRun } from './report.ts'
import { environmentSummary, formatNumber } from './report-markdown.ts'
import { escapeXml, niceScale } from './report-svg.ts'
import { NGINX_CPU_LIMITS } from './proxy-targets.ts'

const SERIES = [
  { name: 'spiffe-lb', color: '#2b6cb0' },
  { name: 'undici', color: '#a0aec0' },
  { name: 'nginx', color: '#38a169' },
  { name: 'haproxy', color: '#d69e2e' }
] as const
const sans = 'font-family="DejaVu Sans, Arial, Helvetica, sans-serif"'
const n = (v: number): string => String(Math.round(v * 100) / 100)

/** Returns the CPU µs per request of each series in `run` (undefined = not measured in this run). */
function values (run: ProxyRun): Array<number | undefined> {
  return SERIES.map((s) => {
    if (s.name === 'spiffe-lb') return run.subject.cpuMicrosPerRequest
    if (s.name === 'undici') return run.baseline.cpuMicrosPerRequest
    return run.peers?.find((p) => p.name === s.name)?.sample.cpuMicrosPerRequest
  })
}

/**
 * Returns the chart as SVG text, or undefined when the report has no peer measurements (runs
 * with the fewest workers only: the peers run with one worker).
 */
export function renderPeerSvg (report: BenchReport): string | undefined {
  const all = report.proxy ?? []
  const fewest = Math.min(...all.map((r) => r.workers))
  const runs = all.filter((r) => r.workers === fewest && r.peers !== undefined)
  if (runs.length === 0) return undefined
  const left = 70
  const groupWidth = 220
  const barWidth = 36
  const top = 110
  const height = 260
  const width = left + groupWidth * runs.length + 30
  const targets = runs.map((r) => {
    const nginx = r.peers?.find((p) => p.name === 'nginx')?.sample.cpuMicrosPerRequest
    return nginx === undefined ? undefined : nginx * NGINX_CPU_LIMITS[r.mode]
  })
  const max = Math.max(1, ...runs.flatMap(values).map((v) => v ?? 0), ...targets.map((t) => t ?? 0))
  const { step, top: axisTop } = niceScale(max)
  const y = (v: number): number => top + height - (Math.max(0, v) / axisTop) * height
  const title = 'proxy CPU µs per request by mode (1 worker each, same run)'
  const out: string[] = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="${width}" height="${top + height + 60}" viewBox="0 0 ${width} ${top + height + 60}">`,
    `<title>${escapeXml(title)}</title>`,
    `<rect x="0" y="0" width="${width}" height="${top + height + 60}" fill="#ffffff"/>`,
    `<text x="20" y="28" ${sans} font-size="16" font-weight="bold" fill="#1a202c">${escapeXml(title)}</text>`,
    `<text x="20" y="48" ${sans} font-size="11" fill="#4a5568">${escapeXml(environmentSummary(report.environment))}</text>`
  ]
  SERIES.forEach((s, i) => {
    out.push(`<rect x="${20 + i * 130}" y="62" width="14" height="14" fill="${s.color}"/>`,
      `<text x="${40 + i * 130}" y="73" ${sans} font-size="12" fill="#1a202c">${s.name}</text>`)
  })
  out.push(`<line x1="${20 + SERIES.length * 130}" y1="69" x2="${50 + SERIES.length * 130}" y2="69" stroke="#e53e3e" stroke-width="2" stroke-dasharray="6,4"/>`,
    `<text x="${56 + SERIES.length * 130}" y="73" ${sans} font-size="12" fill="#1a202c">target (nginx × limit)</text>`)
  for (let v = 0; v <= axisTop + step / 2; v += step) {
    out.push(`<line x1="${left}" y1="${n(y(v))}" x2="${width - 30}" y2="${n(y(v))}" stroke="${v === 0 ? '#2d3748' : '#e2e8f0'}" stroke-width="1"/>`,
      `<text x="${left - 8}" y="${n(y(v) + 4)}" ${sans} font-size="11" text-anchor="end" fill="#2d3748">${formatNumber(v, step < 1 ? 1 : 0)}</text>`)
  }
  runs.forEach((r, g) => {
    const x0 = left + g * groupWidth + (groupWidth - barWidth * SERIES.length) / 2
    values(r).forEach((v, i) => {
      if (v === undefined) return
      const x = x0 + i * barWidth
      out.push(`<rect class="bar" data-mode="${r.mode}" data-series="${SERIES[i]?.name ?? ''}" data-value="${v}" x="${n(x + 2)}" y="${n(y(v))}" width="${barWidth - 4}" height="${n(top + height - y(v))}" fill="${SERIES[i]?.color ?? '#000'}"/>`,
        `<text x="${n(x + barWidth / 2)}" y="${n(y(v) - 4)}" ${sans} font-size="10" text-anchor="middle" fill="#2d3748">${formatNumber(v, 0)}</text>`)
    })
    const t = targets[g]
    if (t !== undefined) {
      out.push(`<line class="target" data-mode="${r.mode}" data-value="${t}" x1="${n(x0 - 6)}" y1="${n(y(t))}" x2="${n(x0 + barWidth * SERIES.length + 6)}" y2="${n(y(t))}" stroke="#e53e3e" stroke-width="2" stroke-dasharray="6,4"/>`)
    }
    const nginx = r.peers?.find((p) => p.name === 'nginx')
    const label = `${r.mode}${nginx === undefined ? '' : ` (spiffe-lb/nginx ${formatNumber(nginx.cpuRatio, 2)}, limit ${formatNumber(NGINX_CPU_LIMITS[r.mode], 2)})`}`
    out.push(`<text x="${n(left + g * groupWidth + groupWidth / 2)}" y="${top + height + 22}" ${sans} font-size="11" text-anchor="middle" fill="#1a202c">${escapeXml(label)}</text>`)
  })
  out.push('</svg>')
  return `${out.join('\n')}\n`
}
