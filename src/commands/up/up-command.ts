import type { Command } from 'commander'
import { logFormatOption, logLevelOption } from '../../process/log-options.ts'
import { EXIT } from '../../process/command-output.ts'
import { lifecycle, openCommandLog } from '../../process/command-log.ts'
import { demoSummary, startDemo, type UpFlags } from '../../testbed/demo.ts'
import { formatHostPort } from '../../internal/host-port.ts'

/** Registers `up`. */
export function registerUpCommand (program: Command): void {
  program.command('up')
    .description('the embedded demo: local CA and pool, four mTLS test backends (trusted, partner, untrusted), an inbound spiffe-lb listener in front of a plain app, the proxy and admin')
    .option('--dir <dir>', 'where the demo keeps its CAs, credentials and config', '.spiffe-lb')
    .option('--port <port>', 'proxy listen port (0 = any free port)', '8080')
    .option('--admin-port <port>', 'admin listen port (0 = any free port)', '9901')
    .option('--host <address>', 'address the proxy and admin listen on (0.0.0.0 to be reached from outside a container)', '127.0.0.1')
    .addOption(logLevelOption()).addOption(logFormatOption())
    .action(async (flags: UpFlags) => {
      const logs = openCommandLog(flags, { stdout: process.stdout, stderr: process.stderr })
      const demo = await startDemo(flags, { stdout: process.stdout, stderr: process.stderr, log: logs.log })
      lifecycle(logs.log).info({ proxy: `http://${formatHostPort('127.0.0.1', demo.server.proxyAddress.port)}`, admin: `http://${formatHostPort('127.0.0.1', demo.server.adminAddress.port)}`, config: demo.configFile }, demoSummary(demo))
      await new Promise<void>((resolve) => {
        process.once('SIGINT', () => { resolve() })
        process.once('SIGTERM', () => { resolve() })
      })
      await demo.stop()
      lifecycle(logs.log).info('spiffe-lb stopped')
      logs.close()
      process.exitCode = EXIT.OK
    })
}
