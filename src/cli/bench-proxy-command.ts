import type { Command } from 'commander'
import { runProxyBench } from '../bench/proxy-bench.ts'
import { parseProxyBenchFlags } from '../bench/proxy-options.ts'
import type { ProxyBenchFlags } from '../bench/proxy-options.ts'
import { emitBenchReport } from './bench-output.ts'
import { EXIT } from './program.ts'

interface Flags extends ProxyBenchFlags { out?: string, json?: boolean }

/** Returns the default report folder: `bench/results/proxy-<ISO timestamp without colons>`. */
export function defaultProxyOutDir (now: Date = new Date()): string {
  return `bench/results/proxy-${now.toISOString().replace(/:/g, '')}`
}

/**
 * Registers `bench proxy` (DESIGN.md section 5, issue 6 item 2): loads the proxy and the minimal
 * undici forwarder in fresh/resumed/pooled modes, writes report.json, Markdown and SVG into
 * `--out`, and prints the Markdown (or the JSON with `--json`). Bad options exit 2 with
 * `ERR_SPIFFE_BENCH_BAD_OPTION`; progress goes to stderr.
 */
export function registerBenchProxy (bench: Command): void {
  bench.command('proxy')
    .description('load the proxy with autocannon in fresh, resumed and pooled modes, next to a minimal undici forwarder measured in the same run')
    .option('--modes <list>', 'comma-separated modes: fresh (full backend handshake per request), resumed (new connection, resumed session), pooled (keep-alive)', 'fresh,resumed,pooled')
    .option('--connections <n>', 'autocannon connections to the frontend (default 16, 8 with --quick)')
    .option('--duration <time>', 'measured time per side per mode, e.g. 5s (default 5s, 2s with --quick)')
    .option('--warmup <time>', 'unmeasured load per side before measuring (default 1s, 500ms with --quick)')
    .option('--slices <n>', 'alternating measured slices per side (default about one per second, at least 2)')
    .option('--workers <list>', 'serve --workers values; a second value makes a scaling run, e.g. 1,2', '1')
    .option('--key-algorithm <alg>', 'key algorithm of the bench certificates', 'ECDSA_P256')
    .option('--target-proxy <host:port>', 'load an already running spiffe-lb frontend instead of starting one')
    .option('--proxy-pid <pid>', 'with --target-proxy: the process whose CPU is measured')
    .option('--out <dir>', 'folder for report.json, report.md and the SVG chart (default bench/results/proxy-<timestamp>)')
    .option('--json', 'print the JSON report instead of the Markdown')
    .option('--quick', 'shorter defaults for a quick look')
    .action(async (flags: Flags) => {
      const options = parseProxyBenchFlags(flags)
      const progress = (line: string): void => { process.stderr.write(`bench proxy: ${line}\n`) }
      const report = await runProxyBench(options, progress)
      await emitBenchReport(report, flags.out ?? defaultProxyOutDir(new Date(report.environment.startedAt)), flags.json === true, progress)
      process.exitCode = EXIT.OK
    })
}
