import type { Command } from 'commander'
import { registerBenchHandshake } from './bench-handshake-command.ts'
import { registerBenchProxy } from './bench-proxy-command.ts'

/**
 * Registers `bench` (DESIGN.md section 5) with its two benchmarks: `bench handshake` (mTLS
 * handshakes through the connector against bare `tls.connect`) and `bench proxy` (the proxy
 * under load against a minimal undici forwarder). Both write JSON, Markdown and SVG reports.
 */
export function registerBenchCommand (program: Command): void {
  const bench = program.command('bench')
    .description('handshake-throughput and proxy benchmarks, each against a baseline measured in the same run')
  registerBenchHandshake(bench)
  registerBenchProxy(bench)
}
