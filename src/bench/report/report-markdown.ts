/**
 * The Markdown form of a benchmark report (docs/architecture.md#process-model: the
 * tables a person reads, derived from the JSON report and never holding a number it lacks.
 */
import type { BenchEnvironment, BenchReport, HandshakeCell, Negotiated, ProfileBreakdown, ProxyRun, ProxySample, TargetCheck } from '../report-model.ts'

/** Returns `value` rounded to `decimals`, or `n/a` when it is not a finite number (no `NaN` in a report). */
export function formatNumber (value: number, decimals = 0): string {
  if (!Number.isFinite(value)) return 'n/a'
  const text = value.toFixed(decimals)
  // toFixed keeps the sign of a tiny negative (`-0.00`), which reads as a real negative value.
  return Number(text) === 0 ? (0).toFixed(decimals) : text
}

/** Returns a fraction (0..1) as a percentage with one decimal, without the `%` sign. */
export function formatPercent (fraction: number): string {
  return formatNumber(fraction * 100, 1)
}

/** Returns the one-line summary of versions and machine used in headings and chart titles. */
export function environmentSummary (env: BenchEnvironment): string {
  return `spiffe-lb ${env.spiffeLb} · Node ${env.node} · OpenSSL ${env.openssl} · undici ${env.undici} · ` +
    `${env.cpuModel} × ${env.cpus} · ${env.platform} ${env.arch}`
}

/** Escapes text for one Markdown table cell: `|` would end the cell, a line break the row. */
function cell (text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\r?\n|\r/g, ' ')
}

function table (header: readonly string[], rows: ReadonlyArray<readonly string[]>): string[] {
  const line = (cells: readonly string[]): string => `| ${cells.map(cell).join(' | ')} |`
  return [line(header), `|${header.map(() => '---').join('|')}|`, ...rows.map(line)]
}

const int = (v: number): string => formatNumber(v, 0)
const ms = (v: number): string => formatNumber(v, 2)
const pair = (a: string, b: string): string => `${a} / ${b}`

function negotiated (n: Negotiated | undefined): string {
  return n === undefined ? '—' : `${n.protocol} / ${n.cipher} / ${n.group}`
}

/** Column headers of the handshake table, in order (tests read rows by them). */
export const handshakeColumns = [
  'cell', 'mode', 'hs/s (spiffe-lb)', 'hs/s (bare)', 'CPU µs/hs (spiffe-lb)', 'CPU µs/hs (bare)',
  'CPU ratio', 'p50/p99 ms (spiffe-lb)', 'resumed % (spiffe-lb / bare)', 'errors (spiffe-lb / bare)',
  'negotiated (spiffe-lb) protocol / cipher / group'
] as const

function handshakeRow (c: HandshakeCell): string[] {
  const s = c.subject
  const b = c.baseline
  return [
    c.id, c.mode, int(s.handshakesPerSecond), int(b.handshakesPerSecond),
    int(s.cpuMicrosPerHandshake), int(b.cpuMicrosPerHandshake), formatNumber(c.ratio.cpuPerHandshake, 2),
    `${ms(s.latencyMs.p50)}/${ms(s.latencyMs.p99)}`,
    pair(formatPercent(s.resumedFraction), formatPercent(b.resumedFraction)),
    pair(int(s.errors), int(b.errors)),
    negotiated(s.negotiated)
  ]
}

/** Column headers of the proxy table, in order. */
export const proxyColumns = [
  'mode', 'workers', 'rps (spiffe-lb / undici)', 'CPU µs/req (spiffe-lb / undici)', 'CPU ratio',
  'p50/p99 ms (spiffe-lb)', 'p50/p99 ms (undici)', 'backend new conns/req (spiffe-lb / undici)',
  'resumed % (spiffe-lb / undici)', 'non-2xx+errors (spiffe-lb / undici)', 'backend protocol', 'backend h2 % (spiffe-lb / undici)'
] as const

/** Returns the share of a sample's backend requests that came over HTTP/2, as a percentage. */
const h2Percent = (s: ProxySample): string => formatPercent(s.backend.requests === 0 ? 0 : (s.backend.h2Requests ?? 0) / s.backend.requests)

function proxyRow (r: ProxyRun): string[] {
  const s = r.subject
  const b = r.baseline
  return [
    r.mode, int(r.workers),
    pair(int(s.requestsPerSecond), int(b.requestsPerSecond)),
    pair(int(s.cpuMicrosPerRequest), int(b.cpuMicrosPerRequest)),
    formatNumber(r.ratio.cpuPerRequest, 2),
    `${ms(s.latencyMs.p50)}/${ms(s.latencyMs.p99)}`,
    `${ms(b.latencyMs.p50)}/${ms(b.latencyMs.p99)}`,
    pair(formatNumber(s.backend.newConnectionsPerRequest, 2), formatNumber(b.backend.newConnectionsPerRequest, 2)),
    pair(formatPercent(s.backend.resumedFraction), formatPercent(b.backend.resumedFraction)),
    pair(int(s.non2xx + s.errors), int(b.non2xx + b.errors)),
    r.protocol === 'h2' ? 'HTTP/2' : 'HTTP/1.1',
    pair(h2Percent(s), h2Percent(b))
  ]
}

/** Column headers of the peer table (spiffe-lb, the undici forwarder and nginx/HAProxy per mode), in order. */
export const peerColumns = [
  'mode', 'proxy', 'rps', 'CPU µs/req', 'spiffe-lb / this', 'RSS MiB (tree / largest process)',
  'backend new conns/req', 'resumed %', 'non-2xx+errors'
] as const

/**
 * Returns CPU µs per request as the ratio to nginx is decided on it: two decimals below 100 µs
 * (pooled requests cost tens of µs, so a whole number would hide the difference).
 */
export function formatCpuMicros (v: number): string {
  return formatNumber(v, v < 100 ? 2 : 0)
}

/** Returns new backend connections per request, or `pooled` when (next to) none were opened. */
export function formatReuse (newConnectionsPerRequest: number): string {
  return newConnectionsPerRequest < 0.005 ? 'pooled' : formatNumber(newConnectionsPerRequest, 2)
}

function peerRows (r: ProxyRun): string[][] {
  const row = (name: string, s: ProxySample, vs: number): string[] => [
    r.mode, name, int(s.requestsPerSecond), formatCpuMicros(s.cpuMicrosPerRequest), formatNumber(vs, 2),
    s.rssKb === undefined ? '—' : `${formatNumber(s.rssKb / 1024, 0)} / ${formatNumber((s.maxProcessRssKb ?? 0) / 1024, 0)}`,
    formatReuse(s.backend.newConnectionsPerRequest), formatPercent(s.backend.resumedFraction), int(s.non2xx + s.errors)
  ]
  return [
    row('spiffe-lb', r.subject, 1),
    row('undici', r.baseline, r.ratio.cpuPerRequest),
    ...(r.peers ?? []).map((p) => row(p.name, p.sample, p.cpuRatio))
  ]
}

/** Column headers of the targets table, in order. */
export const targetColumns = ['target', 'what is measured', 'rule', 'value', 'met'] as const

// Three decimals; `met` was decided on the unrounded value, so ✓/✗ is the verdict to read.
function targetRow (t: TargetCheck): string[] {
  return [t.name, t.measures ?? '—', t.rule, formatNumber(t.value, 3), t.met ? '✓ met' : '✗ not met']
}

function errorLines (report: BenchReport): string[] {
  const lines: string[] = []
  for (const c of report.handshake ?? []) {
    for (const [side, sample] of [['spiffe-lb', c.subject], ['bare', c.baseline]] as const) {
      for (const message of sample.errorSamples) lines.push(`- ${c.id} (${side}): ${message.replace(/\s+/g, ' ')}`)
    }
  }
  return lines.length === 0 ? [] : ['', '### Errors', '', ...lines]
}

/**
 * Returns the report as Markdown: a heading with kind and start time, the environment, the
 * handshake or proxy table (spiffe-lb next to its same-run baseline), and the targets table.
 */
export function renderMarkdown (report: BenchReport): string {
  const env = report.environment
  const out: string[] = [
    `# spiffe-lb bench ${report.kind} — ${env.startedAt}`,
    '',
    `- spiffe-lb ${env.spiffeLb}, Node ${env.node}, OpenSSL ${env.openssl}, undici ${env.undici}`,
    `- CPU: ${env.cpuModel} × ${env.cpus}`,
    `- Platform: ${env.platform} (${env.arch})`
  ]
  const options = Object.entries(report.options)
  if (options.length > 0) {
    // Long lists (the skipped cells of a full matrix) would drown the line: count them instead.
    const shown = (v: unknown): string => Array.isArray(v) && v.length > 6 ? `[${v.length} items, see report.json]` : JSON.stringify(v) ?? String(v)
    out.push(`- Options: ${options.map(([k, v]) => `${k}=${shown(v)}`).join(', ')}`)
  }
  if (report.kind === 'handshake') {
    const cells = report.handshake ?? []
    out.push('', '## Handshakes', '', ...(cells.length === 0
      ? ['No cells were measured.']
      : table(handshakeColumns, cells.map(handshakeRow))), ...errorLines(report))
  } else if (report.kind === 'soak') {
    out.push('', '## Soak', '', ...soakLines(report))
  } else {
    const runs = report.proxy ?? []
    out.push('', '## Proxy', '', ...(runs.length === 0
      ? ['No modes were measured.']
      : table(proxyColumns, runs.map(proxyRow))))
    if (runs.some((r) => r.peers !== undefined)) {
      out.push('', '## Peers (same run, interleaved; nginx and HAProxy with 1 worker)', '', ...table(peerColumns, runs.flatMap(peerRows)), '',
        'nginx and HAProxy verify the backend chain against the bench root and its DNS name; they cannot pick the bundle by the ' +
        'backend\'s SPIFFE trust domain nor check the X.509-SVID rules, which spiffe-lb does on every handshake and resumption.')
    }
    for (const r of runs) if (r.profile !== undefined) out.push('', ...profileLines(r.profile))
  }
  if (report.notes !== undefined && report.notes.length > 0) out.push('', '## Notes', '', ...report.notes.map((n) => `- ${n}`))
  out.push('', '## Targets', '', ...(report.targets.length === 0
    ? ['No targets were checked.']
    : table(targetColumns, report.targets.map(targetRow))))
  return `${out.join('\n')}\n`
}

/**
 * Returns the section on where a pooled `serve` request's time goes: the parts' shares of the
 * profiled serve's busy time, or why there is no breakdown.
 */
function profileLines (p: ProfileBreakdown): string[] {
  const heading = '## Where a pooled request\'s time goes (spiffe-lb serve, V8 CPU profile of a separate run)'
  if (p.error !== undefined) return [heading, '', `No breakdown: ${p.error}`]
  return [heading, '',
    `${formatNumber(p.busyMs, 0)} ms of busy time in ${p.samples} samples, after the measured slices, under the same load. ` +
    'The access log and the metrics count with what they call (the log\'s writes included); the other parts count their own frames.', '',
    ...table(['part', '% of busy time'], p.parts.map((x) => [x.name, formatNumber(x.percent, 1)]))]
}

/** Column headers of the soak samples table, in order. */
export const soakColumns = ['seconds', 'RSS MiB', 'open fds', 'requests so far', 'rotations so far'] as const

function soakLines (report: BenchReport): string[] {
  const s = report.soak
  if (s === undefined || s.samples.length === 0) return ['No samples were taken.']
  // At most about 20 rows: every k-th sample, and always the last one.
  const k = Math.max(1, Math.ceil(s.samples.length / 20))
  const shown = s.samples.filter((_, i) => i % k === 0 || i === s.samples.length - 1)
  return [
    `- ${s.requests} requests (${s.non2xx} non-2xx, ${s.errors} errors), ${s.rotations} SVID rotations, ${formatNumber(s.durationMs / 1000, 0)} s with ${formatNumber(s.warmupMs / 1000, 0)} s warm-up`,
    `- RSS: max ${formatNumber(s.maxRssKb / 1024, 1)} MiB, slope after warm-up ${formatNumber(s.rssSlopeKbPerMinute, 0)} KiB/min, growth after warm-up ${formatNumber(s.rssGrowthKb / 1024, 1)} MiB; open fds growth ${int(s.fdsGrowth)}`,
    '',
    ...table(soakColumns, shown.map((x) => [formatNumber(x.atSeconds, 0), formatNumber(x.rssKb / 1024, 1), int(x.fds), int(x.requests), int(x.rotations)]))
  ]
}
