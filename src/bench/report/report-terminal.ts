/**
 * The terminal form of a benchmark report: compact tables that fit the terminal's width (one
 * per proxy mode), and every target said in words — what is measured, the threshold, the value
 * and the verdict. The full tables stay in `report.md` (report-markdown.ts); this derives from
 * the same JSON report and holds no number it lacks.
 */
import type { BenchReport, HandshakeCell, ProxyRun, ProxySample, TargetCheck } from '../report-model.ts'
import { sliceRatioRange } from '../report-model.ts'
import { formatCpuMicros, formatNumber, formatPercent, formatReuse } from './report-markdown.ts'
import { MODE_WORDS } from '../proxy/proxy-targets.ts'

/** Width used when stdout is not a terminal (a pipe or a file has no columns). */
export const DEFAULT_TERMINAL_WIDTH = 100
/** Below this the tables cannot stay readable; narrower terminals wrap. */
const MIN_WIDTH = 40

/** One column: its header, its cells, and whether the text aligns right (numbers). */
interface Column { header: string, cells: string[], right: boolean }

/**
 * Returns `columns` as aligned text lines no wider than `width`: columns are dropped from the
 * end (the least important last) until the table fits; the first column always stays.
 */
export function fitTable (columns: readonly Column[], width: number): string[] {
  const widthOf = (c: Column): number => Math.max(c.header.length, ...c.cells.map((s) => s.length))
  let shown = [...columns]
  const total = (cs: readonly Column[]): number => cs.reduce((n, c) => n + widthOf(c), 0) + 2 * (cs.length - 1)
  while (shown.length > 1 && total(shown) > width) shown = shown.slice(0, -1)
  const rows = Math.max(0, ...shown.map((c) => c.cells.length))
  const line = (cell: (c: Column) => string): string =>
    shown.map((c) => c.right ? cell(c).padStart(widthOf(c)) : cell(c).padEnd(widthOf(c))).join('  ').trimEnd()
  const out = [line((c) => c.header)]
  for (let i = 0; i < rows; i++) out.push(line((c) => c.cells[i] ?? ''))
  return out
}

/** Returns `text` broken at spaces into lines of at most `width`, continuation lines indented by `indent`. */
export function wrap (text: string, width: number, indent = '    '): string[] {
  const out: string[] = []
  const lead = /^ */.exec(text)?.[0] ?? ''
  let line = lead
  for (const word of text.slice(lead.length).split(' ')) {
    const next = line.trim() === '' ? `${line}${word}` : `${line} ${word}`
    if (next.length > width && line.trim() !== '') {
      out.push(line)
      line = `${indent}${word}`
    } else {
      line = next
    }
  }
  if (line.trim() !== '') out.push(line)
  return out
}

const int = (v: number): string => formatNumber(v, 0)

/** Returns the rule with its comparison written as a person would (`≤ 1.10×`), without the cell prefix. */
function threshold (t: TargetCheck): string {
  const rule = t.cell !== undefined && t.rule.startsWith(`${t.cell}: `) ? t.rule.slice(t.cell.length + 2) : t.rule
  const m = /(<=|>=|=)\s*(-?[\d.]+)/.exec(rule)
  if (m === null) return rule
  const sign = m[1] === '<=' ? 'at most' : m[1] === '>=' ? 'at least' : 'exactly'
  const rest = rule.slice((m.index ?? 0) + m[0].length).trim()
  return `${sign} ${m[2] ?? ''}${unitSuffix(t.unit)}${rest === '' ? '' : ` ${rest}`}`
}

function unitSuffix (unit: string | undefined): string {
  return unit === undefined ? '' : unit === '×' ? '×' : ` ${unit}`
}

/**
 * Returns one sentence per target: `✓ met` / `✗ NOT MET`, what is measured, the value and the
 * threshold, e.g. `✗ NOT MET: spiffe-lb's CPU per request ÷ nginx's (…), fresh mode (…) is
 * 1.65×; the target is at most 1.10×`. Targets without words fall back to their name.
 */
export function targetSentence (t: TargetCheck): string {
  // Ratios with two decimals (the limits have two); counts and sizes as they are, at most one.
  const decimals = t.unit === '×' || t.unit === undefined ? 2 : Number.isInteger(t.value) ? 0 : 1
  return `${t.met ? '✓ met' : '✗ NOT MET'}: ${t.measures ?? t.name} is ${formatNumber(t.value, decimals)}${unitSuffix(t.unit)}; the target is ${threshold(t)}`
}

/**
 * Returns the targets in words, wrapped to `width`: every target not met, then the met ones
 * (when there are more than `maxMet`, only their count: report.md lists each), then the tally.
 */
export function targetLines (targets: readonly TargetCheck[], width: number, maxMet = 12): string[] {
  if (targets.length === 0) return ['No targets were checked.']
  const unmet = targets.filter((t) => !t.met)
  const met = targets.filter((t) => t.met)
  const out = [`Targets (${targets.length - unmet.length} of ${targets.length} met):`]
  for (const t of unmet) out.push(...wrap(`  ${targetSentence(t)}`, width))
  if (met.length > maxMet) out.push(`  ✓ ${met.length} more targets met (each listed in report.md)`)
  else for (const t of met) out.push(...wrap(`  ${targetSentence(t)}`, width))
  return out
}

function proxyTable (r: ProxyRun, width: number): string[] {
  const sides: Array<[string, ProxySample, number]> = [
    ['spiffe-lb', r.subject, 1], ['undici', r.baseline, r.ratio.cpuPerRequest],
    ...(r.peers ?? []).map((p): [string, ProxySample, number] => [p.name, p.sample, p.cpuRatio])
  ]
  const col = (header: string, cell: (s: ProxySample, vs: number) => string, right = true): Column =>
    ({ header, cells: sides.map(([, s, vs]) => cell(s, vs)), right })
  // In order of importance: what does not fit is dropped from the end.
  return fitTable([
    { header: 'proxy', cells: sides.map(([name]) => name), right: false },
    col('CPU µs/req', (s) => formatCpuMicros(s.cpuMicrosPerRequest)),
    col('spiffe-lb ÷ this', (_s, vs) => vs === 0 ? 'n/a' : `${formatNumber(vs, 2)}×`),
    col('÷ per slice', (s) => {
      const range = s === r.subject ? undefined : sliceRatioRange(r.subject, s)
      return range === undefined ? '' : `${formatNumber(range.min, 2)}–${formatNumber(range.max, 2)}`
    }),
    col('req/s', (s) => int(s.requestsPerSecond)),
    col('RSS MiB', (s) => s.maxProcessRssKb === undefined ? '—' : int(s.maxProcessRssKb / 1024)),
    col('new conns/req', (s) => formatReuse(s.backend.newConnectionsPerRequest)),
    col('resumed %', (s) => formatPercent(s.backend.resumedFraction)),
    col('failed', (s) => int(s.non2xx + s.errors)),
    col('p50/p99 ms', (s) => `${formatNumber(s.latencyMs.p50, 1)}/${formatNumber(s.latencyMs.p99, 1)}`)
  ], width)
}

function handshakeTable (cells: readonly HandshakeCell[], width: number): string[] {
  const col = (header: string, cell: (c: HandshakeCell) => string, right = true): Column => ({ header, cells: cells.map(cell), right })
  return fitTable([
    col('cell', (c) => c.id, false),
    col('CPU ratio', (c) => formatNumber(c.ratio.cpuPerHandshake, 2)),
    col('CPU µs/hs (spiffe-lb / bare)', (c) => `${int(c.subject.cpuMicrosPerHandshake)} / ${int(c.baseline.cpuMicrosPerHandshake)}`),
    col('hs/s (spiffe-lb / bare)', (c) => `${int(c.subject.handshakesPerSecond)} / ${int(c.baseline.handshakesPerSecond)}`),
    col('resumed %', (c) => formatPercent(c.subject.resumedFraction)),
    col('errors', (c) => int(c.subject.errors + c.baseline.errors))
  ], width)
}

/**
 * Returns the report for a terminal `width` columns wide (at least 40): a one-line heading, the
 * measurements as compact tables (a table per proxy mode, the handshake cells, the soak summary),
 * the notes, and the targets in words. Every line fits `width` except a word longer than it.
 */
export function renderTerminal (report: BenchReport, width = DEFAULT_TERMINAL_WIDTH): string {
  const w = Math.max(MIN_WIDTH, Math.floor(width))
  const env = report.environment
  const out: string[] = [...wrap(`spiffe-lb bench ${report.kind} — ${env.startedAt} — spiffe-lb ${env.spiffeLb}, Node ${env.node}, OpenSSL ${env.openssl}, ${env.cpuModel} × ${env.cpus}`, w)]
  if (report.kind === 'proxy') {
    for (const r of report.proxy ?? []) {
      const heading = `${MODE_WORDS[r.mode]}, ${r.workers} worker${r.workers === 1 ? '' : 's'}, backend ${r.protocol === 'h2' ? 'HTTP/2' : 'HTTP/1.1'}`
      out.push('', ...wrap(heading, w), ...proxyTable(r, w))
      if (r.profile !== undefined) {
        const p = r.profile
        out.push(...wrap(p.error !== undefined
          ? `serve's time (profiled run): no breakdown: ${p.error}`
          : `serve's time (profiled run): ${p.parts.map((x) => `${x.name} ${formatNumber(x.percent, 1)} %`).join(', ')}`, w))
      }
    }
    if ((report.proxy ?? []).length === 0) out.push('', 'No modes were measured.')
  } else if (report.kind === 'handshake') {
    const cells = report.handshake ?? []
    out.push('', ...(cells.length === 0 ? ['No cells were measured.'] : handshakeTable(cells, w)))
  } else if (report.soak !== undefined) {
    const s = report.soak
    out.push('', ...wrap(`${s.requests} requests (${s.non2xx} non-2xx, ${s.errors} errors), ${s.rotations} SVID rotations in ${formatNumber(s.durationMs / 1000, 0)} s; ` +
      `RSS max ${formatNumber(s.maxRssKb / 1024, 1)} MiB, slope after warm-up ${formatNumber(s.rssSlopeKbPerMinute, 0)} KiB/min; open fds growth ${int(s.fdsGrowth)}`, w))
  }
  for (const note of report.notes ?? []) out.push(...wrap(`note: ${note}`, w))
  out.push('', ...targetLines(report.targets, w))
  return `${out.join('\n')}\n`
}
