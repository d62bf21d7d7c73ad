/**
 * The benchmark report model (docs/architecture.md#process-model): what `bench handshake` and `bench
 * proxy` measure, always next to a baseline measured in the same run, so a report on a shared,
 * noisy machine is read as ratios. JSON is the canonical form; Markdown and SVG derive from it.
 */

/** Versions and machine facts recorded with every report. */
export interface BenchEnvironment {
  spiffeLb: string
  node: string
  openssl: string
  undici: string
  platform: string
  arch: string
  cpuModel: string
  cpus: number
  /** ISO 8601 start of the run. */
  startedAt: string
}

/** Latency percentiles in milliseconds. */
export interface Percentiles { p50: number, p90: number, p99: number }

/** What the peer negotiated, as the measuring side saw it (first successful handshake). */
export interface Negotiated {
  /** `TLSv1.3`, `TLSv1.2`. */
  protocol: string
  /** OpenSSL cipher name, e.g. `TLS_AES_256_GCM_SHA384`. */
  cipher: string
  /** Key-exchange group, e.g. `X25519`, `P-256`, `X25519MLKEM768`. */
  group: string
}

/** One side of a handshake cell: the spiffe-lb connector (`subject`) or bare `tls.connect`. */
export interface HandshakeSample {
  handshakes: number
  errors: number
  /** Wall time spent in this side's measuring slices, ms. */
  durationMs: number
  handshakesPerSecond: number
  /** `process.cpuUsage()` (user + system) of the measuring process per successful handshake. */
  cpuMicrosPerHandshake: number
  latencyMs: Percentiles
  /** Fraction of successful handshakes that resumed a session (0..1). */
  resumedFraction: number
  negotiated: Negotiated | undefined
  /** Up to five distinct error messages. */
  errorSamples: string[]
}

/** One cell of the handshake matrix. */
export interface HandshakeCell {
  /** `ECDSA_P256/leaf+root/TLSv1.3/X25519/full`. */
  id: string
  keyAlgorithm: string
  /** 1 = leaf + root, 2 = leaf + intermediate + root. */
  chainDepth: 1 | 2
  tlsVersion: 'TLSv1.2' | 'TLSv1.3'
  /** The group offered (the only one offered). */
  group: string
  mode: 'full' | 'resumed'
  subject: HandshakeSample
  baseline: HandshakeSample
  /** subject / baseline for CPU per handshake, and for handshakes per second. */
  ratio: { cpuPerHandshake: number, handshakesPerSecond: number }
  /** The groups the client offered when more than `group` (TLS 1.2 + ECDSA adds the certificate's curve). */
  offeredGroups?: string[]
  /** Connections of the cell counted at both ends, to prove no reuse or resumption leaked in. */
  counts?: HandshakeCounts
}

/** One cell's connections, warm-up included, subject and baseline together. */
export interface HandshakeCounts {
  /** Successful handshakes the measuring process completed. */
  handshakes: number
  /** Of those, the resumed ones. */
  resumed: number
  /** Failed attempts. */
  errors: number
  /** What the target counted (`/stats` of `spiffe-lb backend`, the stats reads left out); absent for other targets. */
  target?: { connections: number, resumed: number, rejected: number }
}

/** Counters taken from the backend (`/stats` of `spiffe-lb backend`), per request. */
export interface BackendCounts {
  requests: number
  connections: number
  resumed: number
  newConnectionsPerRequest: number
  /** resumed / connections (0 when there were none). */
  resumedFraction: number
  /** Of `requests`, the ones the backend received over HTTP/2. */
  h2Requests?: number
}

/** One side of a proxy-mode run: spiffe-lb (`subject`) or the minimal undici forwarder. */
export interface ProxySample {
  requests: number
  non2xx: number
  errors: number
  durationMs: number
  requestsPerSecond: number
  latencyMs: Percentiles
  /** CPU (user + system) of the proxy's process tree per request, µs. */
  cpuMicrosPerRequest: number
  /** The same per measured slice, in slice order (the spread across repeats); absent when CPU was not measured. */
  cpuMicrosPerRequestBySlice?: number[]
  backend: BackendCounts
  /**
   * What could not be measured (absent when everything was): `cpu` when the proxy's process is
   * unknown (`bench proxy --target-proxy` without `--proxy-pid`; `cpuMicrosPerRequest` is then 0),
   * `backend` when its backend is not ours (`backend` counts are then 0).
   */
  unmeasured?: Array<'cpu' | 'backend'>
  /** Largest RSS of the proxy's process tree (sum over its processes) seen at a slice end, KiB. */
  rssKb?: number
  /** Largest RSS of one process of the tree (one worker) seen at a slice end, KiB. */
  maxProcessRssKb?: number
}

/** A peer proxy (nginx, HAProxy) measured in the same run as spiffe-lb, interleaved with it. */
export interface PeerRun {
  name: 'nginx' | 'haproxy'
  sample: ProxySample
  /** spiffe-lb / this peer, CPU per request. */
  cpuRatio: number
}

/** One proxy mode with its baseline. */
export interface ProxyRun {
  mode: 'fresh' | 'resumed' | 'pooled'
  /** Backend protocol of the proxy and the baseline (`bench proxy --protocol`); absent = h1. */
  protocol?: 'h1' | 'h2'
  /** Proxy worker processes (`serve --workers`). */
  workers: number
  subject: ProxySample
  baseline: ProxySample
  ratio: { cpuPerRequest: number, requestsPerSecond: number }
  /** nginx and HAProxy in the same slices (absent when none ran). */
  peers?: PeerRun[]
  /** Where `serve`'s busy time went, from a separate profiled run after the measured slices (pooled HTTP/1.1 only). */
  profile?: ProfileBreakdown
}

/** The shares of a `serve`'s busy time by part (bench/proxy/cpu-profile.ts). */
export interface ProfileBreakdown {
  /** Busy (non-idle) time sampled, ms. */
  busyMs: number
  samples: number
  /** Each part's share of the busy time, percent, in the parts' order, the rest last. */
  parts: Array<{ name: string, percent: number }>
  /** Why there is no breakdown, when profiling failed (the parts are then empty). */
  error?: string
}

/** A target the issue sets, checked against the measured ratio. */
export interface TargetCheck {
  name: string
  /** `ratio <= 1.10`, `resumed >= 0.99`, … */
  rule: string
  value: number
  met: boolean
  /** The handshake cell id the check is about (bench handshake checks every cell). */
  cell?: string
  /** What is measured, in words (`spiffe-lb's CPU per request ÷ nginx's, fresh mode, …`): what the report prints. */
  measures?: string
  /** How `value` reads (`×`, `MiB`, `KiB/min`, …); absent for a plain number. */
  unit?: string
}

/** The whole report, as written to `report.json`. */
export interface BenchReport {
  kind: 'handshake' | 'proxy' | 'soak'
  version: 1
  environment: BenchEnvironment
  /** The options the run used, as given (durations in ms). */
  options: Record<string, unknown>
  handshake?: HandshakeCell[]
  proxy?: ProxyRun[]
  /** Over-time samples of a soak run. */
  soak?: SoakResult
  /** What was skipped and why (a peer binary absent, …). */
  notes?: string[]
  targets: TargetCheck[]
}

/** Returns a / b, or 0 when b is 0 (an empty side must not read as infinitely better). */
export function ratio (a: number, b: number): number {
  return b === 0 ? 0 : a / b
}

/** Returns the p50/p90/p99 of `values` (ms), nearest-rank; zeros when empty. */
export function percentiles (values: readonly number[]): Percentiles {
  if (values.length === 0) return { p50: 0, p90: 0, p99: 0 }
  const sorted = [...values].sort((a, b) => a - b)
  const at = (q: number): number => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? 0
  return { p50: at(0.5), p90: at(0.9), p99: at(0.99) }
}

/** One moment of a soak run. */
export interface SoakSample {
  /** Seconds since the soak's load started. */
  atSeconds: number
  /** RSS of the proxy's process tree, KiB. */
  rssKb: number
  /** Open file descriptors of the proxy's process tree. */
  fds: number
  /** Requests answered so far (all modes). */
  requests: number
  /** Credential rotations written so far. */
  rotations: number
}

/** What a soak run measured over time. */
export interface SoakResult {
  durationMs: number
  warmupMs: number
  samples: SoakSample[]
  requests: number
  non2xx: number
  errors: number
  rotations: number
  /** RSS growth per minute after warm-up (least squares), KiB/min. */
  rssSlopeKbPerMinute: number
  /** Largest RSS after warm-up minus RSS at the end of warm-up, KiB. */
  rssGrowthKb: number
  maxRssKb: number
  fdsGrowth: number
}

/** The smallest and largest of `values`, or undefined when there are none. */
export interface Range { min: number, max: number }

/** Returns the min–max of `values` (finite ones only), or undefined when none is finite. */
export function rangeOf (values: readonly number[] | undefined): Range | undefined {
  const v = (values ?? []).filter((x) => Number.isFinite(x))
  return v.length === 0 ? undefined : { min: Math.min(...v), max: Math.max(...v) }
}

/**
 * Returns the range of the per-slice ratios a[i] / b[i] (slices of one run are interleaved, so
 * slice i of both sides saw the same neighbours); undefined when either side has no slices.
 */
export function sliceRatioRange (a: ProxySample, b: ProxySample): Range | undefined {
  const x = a.cpuMicrosPerRequestBySlice ?? []
  const y = b.cpuMicrosPerRequestBySlice ?? []
  const ratios = x.slice(0, y.length).map((v, i) => ratio(v, y[i] ?? 0)).filter((r) => r > 0)
  return rangeOf(ratios)
}
