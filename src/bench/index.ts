// Public API of src/bench: the handshake and proxy benchmarks (docs/architecture.md#process-model)
// and their report model and writers.
export { runHandshakeBench } from './handshake-bench.ts'
export { parseHandshakeFlags } from './handshake-options.ts'
export type { HandshakeBenchOptions, HandshakeFlags, HandshakeMode, TlsVersion } from './handshake-options.ts'
export { runProxyBench } from './proxy-bench.ts'
export { PROXY_MODES, parseProxyBenchFlags } from './proxy-options.ts'
export type { ProxyBenchFlags, ProxyBenchOptions, ProxyMode } from './proxy-options.ts'
export { benchEnvironment } from './environment.ts'
export { percentiles, ratio } from './report.ts'
export type {
  BackendCounts, BenchEnvironment, BenchReport, HandshakeCell, HandshakeSample, Negotiated, Percentiles, ProxyRun, ProxySample, TargetCheck
} from './report.ts'
export { renderMarkdown } from './report-markdown.ts'
export { renderSvg } from './report-svg.ts'
export { writeReport } from './write-report.ts'
export type { WrittenReport } from './write-report.ts'
