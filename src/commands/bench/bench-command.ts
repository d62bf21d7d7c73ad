import type { Command } from 'commander'
import { runHandshakeBench } from '../../bench/handshake/handshake-bench.ts'
import { DEFAULT_FLAGS, parseHandshakeFlags } from '../../bench/handshake/handshake-options.ts'
import type { HandshakeFlags } from '../../bench/handshake/handshake-options.ts'
import { runProxyBench } from '../../bench/proxy/proxy-bench.ts'
import { parseProxyBenchFlags } from '../../bench/proxy/proxy-options.ts'
import type { ProxyBenchFlags } from '../../bench/proxy/proxy-options.ts'
import { defaultReportDir, emitBenchReport } from '../../bench/report/emit-report.ts'
import { runSoakBench } from '../../bench/soak/soak-bench.ts'
import { parseSoakFlags } from '../../bench/soak/soak-options.ts'
import type { SoakFlags } from '../../bench/soak/soak-options.ts'
import { EXIT } from '../../process/command-output.ts'

interface HandshakeCommandFlags extends HandshakeFlags { out?: string, json?: boolean, check?: boolean }
interface ProxyCommandFlags extends ProxyBenchFlags { out?: string, json?: boolean }

/**
 * Registers `bench` with its two benchmarks: `bench handshake` (mTLS handshakes through the
 * connector against bare `tls.connect`) and `bench proxy` (the proxy under load against a
 * minimal undici forwarder). Both write JSON, Markdown and SVG reports.
 */
export function registerBenchCommand (program: Command): void {
  const bench = program.command('bench')
    .description('handshake-throughput and proxy benchmarks, each against a baseline measured in the same run')
  registerBenchHandshake(bench)
  registerBenchProxy(bench)
  registerBenchSoak(bench)
}

const collect = (value: string, previous: string[] = []): string[] => [...previous, value]

/**
 * Registers `bench handshake`: full and resumed mTLS
 * handshakes through the spiffe-lb connector next to bare `tls.connect` in the same process,
 * over a matrix of key algorithm, chain depth, TLS version, group and mode. Writes report.json,
 * report.md and chart.svg into `--out`, prints the Markdown (or JSON with `--json`); progress
 * goes to stderr. Bad options exit 2 (`ERR_SPIFFE_BENCH_BAD_OPTION`); `--check` exits 1 when a
 * target is not met. Ctrl-C stops the run and cleans up children and keys.
 */
function registerBenchHandshake (bench: Command): void {
  bench.command('handshake')
    .description('mTLS handshakes/s and CPU per handshake through the spiffe-lb connector, next to bare tls.connect measured in the same run')
    .option('--key-algorithms <list>', `comma-separated key algorithms (default ${DEFAULT_FLAGS.keyAlgorithms}; --quick: ECDSA_P256,RSA_2048)`)
    .option('--chain-depths <list>', 'comma-separated chain depths: 1 = leaf+root, 2 = leaf+intermediate+root (default 1,2)')
    .option('--tls-versions <list>', 'comma-separated TLS versions offered (default TLSv1.3,TLSv1.2)')
    .option('--groups <list>', `comma-separated key-exchange groups offered, one per cell (default ${DEFAULT_FLAGS.groups}; --quick: X25519)`)
    .option('--modes <list>', 'comma-separated modes: full, resumed (default full,resumed)')
    .option('--concurrency <n>', 'handshakes in flight per side (default 8)')
    .option('--duration <duration>', 'measured time per cell, split between spiffe-lb and the baseline (default 3s; --quick: 2400ms)')
    .option('--warmup <duration>', 'unmeasured handshakes per cell before measuring (default 1s; --quick: 400ms)')
    .option('--slice <duration>', 'length of one alternating measuring slice (default 250ms; --quick: 200ms)')
    .option('--target <target>', 'spiffe-lb (a spiffe-lb backend child), openssl (an openssl s_server child) or a <host:port> (default spiffe-lb)')
    .option('--cert <file>', 'with --target <host:port>: the client X.509-SVID chain (PEM)')
    .option('--key <file>', 'with --target <host:port>: the client private key (PEM)')
    .option('--bundle <td=file>', 'with --target <host:port>: trust anchors (PEM) of one trust domain to verify the target with, e.g. example.org=root.pem (repeatable)', collect)
    .option('--quick', 'a small matrix (16 cells) with short durations: about a minute')
    .option('--out <dir>', 'folder for report.json, report.md and chart.svg (default bench/results/handshake-<timestamp>)')
    .option('--json', 'print the JSON report instead of the Markdown')
    .option('--check', 'exit 1 when a performance goal (CPU ratios, resumed fraction) is not met')
    .action(async (flags: HandshakeCommandFlags) => {
      const options = parseHandshakeFlags(flags)
      const progress = (line: string): void => { process.stderr.write(`bench handshake: ${line}\n`) }
      const abort = new AbortController()
      const onSignal = (signal: NodeJS.Signals): void => {
        progress(`${signal}: stopping after the handshakes in flight, cleaning up`)
        abort.abort()
      }
      process.once('SIGINT', onSignal)
      process.once('SIGTERM', onSignal)
      let report
      try {
        report = await runHandshakeBench({ ...options, signal: abort.signal }, progress)
      } finally {
        process.off('SIGINT', onSignal)
        process.off('SIGTERM', onSignal)
      }
      const dir = flags.out ?? defaultReportDir('handshake', new Date(report.environment.startedAt))
      const unmet = await emitBenchReport(report, dir, flags.json === true, progress)
      process.exitCode = flags.check === true && unmet.length > 0 ? EXIT.FAILED : EXIT.OK
    })
}

/**
 * Registers `bench proxy`: loads the proxy and the minimal
 * undici forwarder in fresh/resumed/pooled modes, writes report.json, Markdown and SVG into
 * `--out`, and prints the Markdown (or the JSON with `--json`). Bad options exit 2 with
 * `ERR_SPIFFE_BENCH_BAD_OPTION`; progress goes to stderr.
 */
function registerBenchProxy (bench: Command): void {
  bench.command('proxy')
    .description('load the proxy with autocannon in fresh, resumed and pooled modes, next to a minimal undici forwarder measured in the same run')
    .option('--modes <list>', 'comma-separated modes: fresh (full backend handshake per request), resumed (new connection, resumed session), pooled (keep-alive)', 'fresh,resumed,pooled')
    .option('--protocol <list>', 'backend protocols: h1 (HTTP/1.1), h2 (HTTP/2: spiffe-lb protocol HTTP2, undici allowH2; pooled mode only, no peers) or h1,h2', 'h1')
    .option('--connections <n>', 'autocannon connections to the frontend (default 16, 8 with --quick)')
    .option('--duration <duration>', 'measured time per side per mode, e.g. 5s (default 5s, 2s with --quick)')
    .option('--warmup <duration>', 'unmeasured load per side before measuring (default 1s, 500ms with --quick)')
    .option('--slices <n>', 'alternating measured slices per side (default about one per second, at least 2)')
    .option('--workers <list>', 'serve --workers values; a second value makes a scaling run, e.g. 1,2', '1')
    .option('--key-algorithm <alg>', 'key algorithm of the bench certificates', 'ECDSA_P256')
    .option('--target-proxy <host:port>', 'load an already running spiffe-lb frontend instead of starting one')
    .option('--proxy-pid <pid>', 'with --target-proxy: the process whose CPU is measured')
    .option('--peers <list>', 'peer proxies measured in the same run when installed: nginx,haproxy or none', 'nginx,haproxy')
    .option('--out <dir>', 'folder for report.json, report.md and the SVG chart (default bench/results/proxy-<timestamp>)')
    .option('--json', 'print the JSON report instead of the Markdown')
    .option('--quick', 'shorter defaults for a quick look')
    .action(async (flags: ProxyCommandFlags) => {
      const options = parseProxyBenchFlags(flags)
      const progress = (line: string): void => { process.stderr.write(`bench proxy: ${line}\n`) }
      const report = await runProxyBench(options, progress)
      await emitBenchReport(report, flags.out ?? defaultReportDir('proxy', new Date(report.environment.startedAt)), flags.json === true, progress)
      process.exitCode = EXIT.OK
    })
}

/**
 * Registers `bench soak`: mixed traffic with SVID rotations through one `serve`, RSS and open
 * descriptors sampled over time; writes report.json, report.md and chart.svg into `--out`.
 * Exits 1 when a check fails (memory keeps growing after warm-up, a request failed), 2 for a
 * bad option (`ERR_SPIFFE_BENCH_BAD_OPTION`).
 */
function registerBenchSoak (bench: Command): void {
  bench.command('soak')
    .description('mixed fresh/resumed/pooled traffic with SVID rotations; fails when the proxy\'s memory keeps growing after warm-up')
    .option('--duration <duration>', 'load time (default 10m, 30s with --quick)')
    .option('--warmup <duration>', 'load before growth is judged (default 1m, 10s with --quick)')
    .option('--rotate-every <duration>', 'write a new SVID generation this often (default 30s, 5s with --quick)')
    .option('--sample-every <duration>', 'sample RSS and descriptors this often (default 5s, 1s with --quick)')
    .option('--connections <n>', 'autocannon connections (default 16)')
    .option('--out <dir>', 'folder for report.json, report.md and chart.svg (default bench/results/soak-<timestamp>)')
    .option('--json', 'print the JSON report instead of the Markdown')
    .option('--quick', 'shorter defaults for a quick look')
    .action(async (flags: SoakFlags & { out?: string, json?: boolean }) => {
      const options = parseSoakFlags(flags)
      const progress = (line: string): void => { process.stderr.write(`bench soak: ${line}\n`) }
      const report = await runSoakBench(options, progress)
      const unmet = await emitBenchReport(report, flags.out ?? defaultReportDir('soak', new Date(report.environment.startedAt)), flags.json === true, progress)
      process.exitCode = unmet.length === 0 ? EXIT.OK : EXIT.FAILED
    })
}
