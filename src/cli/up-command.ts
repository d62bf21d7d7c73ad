import type { Command } from 'commander'
import { EXIT } from '../server/command-output.ts'
import { demoSummary, startDemo, type UpFlags } from '../server/demo.ts'

/** Registers `up`. */
export function registerUpCommand (program: Command): void {
  program.command('up')
    .description('the embedded demo: local CA and pool, four mTLS test backends (trusted, partner, untrusted), the proxy and admin')
    .option('--dir <dir>', 'where the demo keeps its CAs, credentials and config', '.spiffe-lb')
    .option('--port <port>', 'proxy listen port (0 = any free port)', '8080')
    .option('--admin-port <port>', 'admin listen port (0 = any free port)', '9901')
    .option('--host <address>', 'address the proxy and admin listen on (0.0.0.0 to be reached from outside a container)', '127.0.0.1')
    .option('--log-level <level>', 'pino log level for the proxy and backends', 'warn')
    .action(async (flags: UpFlags) => {
      const out = { stdout: process.stdout, stderr: process.stderr }
      const demo = await startDemo(flags, out)
      out.stdout.write(demoSummary(demo))
      await new Promise<void>((resolve) => {
        process.once('SIGINT', () => { resolve() })
        process.once('SIGTERM', () => { resolve() })
      })
      await demo.stop()
      process.exitCode = EXIT.OK
    })
}
