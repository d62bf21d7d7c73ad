import type { Command } from 'commander'
import { logFormatOption, logLevelOption } from '../../process/log-options.ts'
import { runServe, type ServeFlags } from './serve.ts'
import { DRAIN_TIMEOUT_MS } from '../../defaults.ts'
import { formatDuration } from '../../internal/duration.ts'

/** Registers `serve -c FILE [--check] [--workers N|auto]`. */
export function registerServeCommand (program: Command): void {
  program.command('serve')
    .description('run the proxy from a config file; --check only validates it (exit 0 or 2)')
    .requiredOption('-c, --config <file>', 'config file (YAML or JSON)')
    .option('--check', 'validate the config and exit without starting anything')
    .option('--drain-timeout <duration>', 'how long SIGTERM waits for in-flight requests', formatDuration(DRAIN_TIMEOUT_MS))
    .addOption(logLevelOption()).addOption(logFormatOption())
    .option('--workers <n>', 'proxy processes sharing the listener (node:cluster): a positive integer or "auto" (one per CPU)', '1')
    .action(async (flags: ServeFlags) => {
      process.exitCode = await runServe(flags, { stdout: process.stdout, stderr: process.stderr })
    })
}
