/**
 * The peer chart of a `bench proxy` report: per mode, the headline is the ratio the benchmark
 * exists for — spiffe-lb's CPU per request ÷ nginx's, with its target and the spread of the
 * per-slice ratios — over bars of CPU µs per request of each proxy (spiffe-lb, the undici
 * forwarder, nginx, HAProxy) with min–max whiskers across the slices, and the target drawn as a
 * dashed line at nginx's figure × the limit (NGINX_CPU_LIMITS). Self-contained SVG 1.1 like
 * report-svg.ts.
 */
import type { BenchReport, ProxyRun, ProxySample, Range } from '../report-model.ts'
import { rangeOf, sliceRatioRange } from '../report-model.ts'
import { environmentSummary, formatNumber } from './report-markdown.ts'
import { escapeXml, niceScale, splitLine } from './report-svg.ts'
import { NGINX_CPU_LIMITS } from '../proxy/proxy-targets.ts'

const SERIES = [
  { name: 'spiffe-lb', color: '#2b6cb0' },
  { name: 'undici', color: '#a0aec0' },
  { name: 'nginx', color: '#38a169' },
  { name: 'haproxy', color: '#d69e2e' }
] as const
const sans = 'font-family="DejaVu Sans, Arial, Helvetica, sans-serif"'
const n = (v: number): string => String(Math.round(v * 100) / 100)
const MET = '#276749'
const UNMET = '#c53030'

/** Returns the sample of each series in `run` (undefined = not measured in this run). */
function samples (run: ProxyRun): Array<ProxySample | undefined> {
  return SERIES.map((s) => {
    if (s.name === 'spiffe-lb') return run.subject
    if (s.name === 'undici') return run.baseline
    return run.peers?.find((p) => p.name === s.name)?.sample
  })
}

/** The headline of one mode: the ratio to nginx, its limit, and the spread of the per-slice ratios. */
interface Headline { ratio: number, limit: number, spread: Range | undefined }

function headline (run: ProxyRun): Headline | undefined {
  const nginx = run.peers?.find((p) => p.name === 'nginx')
  if (nginx === undefined) return undefined
  return { ratio: nginx.cpuRatio, limit: NGINX_CPU_LIMITS[run.mode], spread: sliceRatioRange(run.subject, nginx.sample) }
}

/**
 * Returns the chart as SVG text, or undefined when the report has no peer measurements (runs
 * with the fewest workers only: the peers run with one worker). Each group carries a `text
 * class="headline"` with the ratio, each bar a `rect class="bar"`, each spread a `line
 * class="spread"` and each target a `line class="target"`, all with `data-*` values.
 */
export function renderPeerSvg (report: BenchReport): string | undefined {
  const all = report.proxy ?? []
  const fewest = Math.min(...all.map((r) => r.workers))
  const runs = all.filter((r) => r.workers === fewest && r.peers !== undefined)
  if (runs.length === 0) return undefined
  const left = 52
  const barWidth = 34
  const groupWidth = barWidth * SERIES.length + 56
  const width = left + groupWidth * runs.length + 12
  const subtitle = splitLine(environmentSummary(report.environment), Math.floor((width - 32) / 6))
  const legendY = 44 + 14 * subtitle.length
  const headTop = legendY + 44
  const top = headTop + 52
  const height = 230
  const targets = runs.map((r) => {
    const nginx = r.peers?.find((p) => p.name === 'nginx')?.sample.cpuMicrosPerRequest
    return nginx === undefined ? undefined : nginx * NGINX_CPU_LIMITS[r.mode]
  })
  const highs = runs.flatMap((r) => samples(r).map((s) => Math.max(s?.cpuMicrosPerRequest ?? 0, rangeOf(s?.cpuMicrosPerRequestBySlice)?.max ?? 0)))
  const { step, top: axisTop } = niceScale(Math.max(1, ...highs, ...targets.map((t) => t ?? 0)))
  const y = (v: number): number => top + height - (Math.max(0, v) / axisTop) * height
  const total = top + height + 28
  const title = 'spiffe-lb CPU per request ÷ nginx, by mode (1 worker each, same run)'
  const out: string[] = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="${width}" height="${total}" viewBox="0 0 ${width} ${total}">`,
    `<title>${escapeXml(title)}</title>`,
    `<rect x="0" y="0" width="${width}" height="${total}" fill="#ffffff"/>`,
    `<text x="16" y="24" ${sans} font-size="15" font-weight="bold" fill="#1a202c">${escapeXml(title)}</text>`,
    ...subtitle.map((line, i) => `<text x="16" y="${42 + 14 * i}" ${sans} font-size="10" fill="#4a5568">${escapeXml(line)}</text>`)
  ]
  const legend: Array<[string, string]> = [...SERIES.map((s): [string, string] => [s.name, s.color])]
  let lx = 16
  for (const [name, color] of legend) {
    out.push(`<rect x="${lx}" y="${legendY - 10}" width="12" height="12" fill="${color}"/>`,
      `<text x="${lx + 16}" y="${legendY}" ${sans} font-size="11" fill="#1a202c">${name}</text>`)
    lx += 22 + name.length * 7
  }
  out.push(`<line x1="${lx}" y1="${legendY - 4}" x2="${lx + 24}" y2="${legendY - 4}" stroke="${UNMET}" stroke-width="2" stroke-dasharray="6,4"/>`,
    `<text x="${lx + 28}" y="${legendY}" ${sans} font-size="11" fill="#1a202c">target: nginx × limit</text>`,
    `<line x1="${lx + 170}" y1="${legendY - 10}" x2="${lx + 170}" y2="${legendY + 2}" stroke="#1a202c" stroke-width="1.5"/>`,
    `<text x="${lx + 176}" y="${legendY}" ${sans} font-size="11" fill="#1a202c">min–max over slices</text>`)
  for (let v = 0; v <= axisTop + step / 2; v += step) {
    out.push(`<line x1="${left}" y1="${n(y(v))}" x2="${width - 12}" y2="${n(y(v))}" stroke="${v === 0 ? '#2d3748' : '#e2e8f0'}" stroke-width="1"/>`,
      `<text x="${left - 6}" y="${n(y(v) + 4)}" ${sans} font-size="10" text-anchor="end" fill="#2d3748">${formatNumber(v, step < 1 ? 1 : 0)}</text>`)
  }
  out.push(`<text x="12" y="${n(top + height / 2)}" ${sans} font-size="10" text-anchor="middle" fill="#4a5568" transform="rotate(-90 12 ${n(top + height / 2)})">CPU µs per request</text>`)
  runs.forEach((r, g) => {
    const center = left + g * groupWidth + groupWidth / 2
    const x0 = center - (barWidth * SERIES.length) / 2
    const h = headline(r)
    if (h !== undefined) {
      const met = h.ratio > 0 && h.ratio <= h.limit
      const spread = h.spread === undefined ? '' : `slices ${formatNumber(h.spread.min, 2)}–${formatNumber(h.spread.max, 2)}×`
      out.push(`<text x="${n(center)}" y="${headTop - 16}" ${sans} font-size="12" font-weight="bold" text-anchor="middle" fill="#1a202c">${r.mode}</text>`,
        `<text class="headline" data-mode="${r.mode}" data-value="${h.ratio}" data-limit="${h.limit}" data-met="${met}" x="${n(center)}" y="${headTop + 4}" ${sans} font-size="19" font-weight="bold" text-anchor="middle" fill="${met ? MET : UNMET}">${escapeXml(`${formatNumber(h.ratio, 2)}× nginx`)}</text>`,
        `<text class="headline-detail" data-mode="${r.mode}"${h.spread === undefined ? '' : ` data-min="${h.spread.min}" data-max="${h.spread.max}"`} x="${n(center)}" y="${headTop + 20}" ${sans} font-size="10" text-anchor="middle" fill="#2d3748">${escapeXml(`target ≤ ${formatNumber(h.limit, 2)}× ${met ? '✓ met' : '✗ not met'}`)}</text>`,
        `<text x="${n(center)}" y="${headTop + 33}" ${sans} font-size="10" text-anchor="middle" fill="#4a5568">${escapeXml(spread)}</text>`)
    } else {
      out.push(`<text x="${n(center)}" y="${headTop}" ${sans} font-size="15" font-weight="bold" text-anchor="middle" fill="#1a202c">${r.mode}</text>`)
    }
    samples(r).forEach((s, i) => {
      if (s === undefined) return
      const v = s.cpuMicrosPerRequest
      const x = x0 + i * barWidth
      const name = SERIES[i]?.name ?? ''
      out.push(`<rect class="bar" data-mode="${r.mode}" data-series="${name}" data-value="${v}" x="${n(x + 2)}" y="${n(y(v))}" width="${barWidth - 4}" height="${n(top + height - y(v))}" fill="${SERIES[i]?.color ?? '#000'}"/>`)
      const spread = rangeOf(s.cpuMicrosPerRequestBySlice)
      const cx = x + barWidth / 2
      if (spread !== undefined) {
        out.push(`<line class="spread" data-mode="${r.mode}" data-series="${name}" data-min="${spread.min}" data-max="${spread.max}" x1="${n(cx)}" y1="${n(y(spread.min))}" x2="${n(cx)}" y2="${n(y(spread.max))}" stroke="#1a202c" stroke-width="1.5"/>`,
          `<line x1="${n(cx - 4)}" y1="${n(y(spread.max))}" x2="${n(cx + 4)}" y2="${n(y(spread.max))}" stroke="#1a202c" stroke-width="1.5"/>`,
          `<line x1="${n(cx - 4)}" y1="${n(y(spread.min))}" x2="${n(cx + 4)}" y2="${n(y(spread.min))}" stroke="#1a202c" stroke-width="1.5"/>`)
      }
      const labelY = Math.min(y(v), spread === undefined ? y(v) : y(spread.max)) - 4
      out.push(`<text x="${n(cx)}" y="${n(labelY)}" ${sans} font-size="10" text-anchor="middle" fill="#2d3748">${formatNumber(v, 0)}</text>`,
        `<text x="${n(cx)}" y="${top + height + 14}" ${sans} font-size="9" text-anchor="middle" fill="#4a5568">${name}</text>`)
    })
    const t = targets[g]
    if (t !== undefined) {
      out.push(`<line class="target" data-mode="${r.mode}" data-value="${t}" x1="${n(x0 - 4)}" y1="${n(y(t))}" x2="${n(x0 + barWidth * SERIES.length + 4)}" y2="${n(y(t))}" stroke="${UNMET}" stroke-width="2" stroke-dasharray="6,4"/>`)
    }
  })
  out.push('</svg>')
  return `${out.join('\n')}\n`
}
