import type { Command } from 'commander'
import { DEFAULT_REFRESH_HINT, startBundleEndpointCommand, type BundleEndpointCommandOptions } from '../server/bundle-endpoint.ts'
import { EXIT } from '../server/command-output.ts'
import { lifecycle, openCommandLog, type LogFlags } from '../server/command-log.ts'
import { logFormatOption, logLevelOption } from './log-options.ts'

/** Registers `spiffe-lb bundle-endpoint`. */
export function registerBundleEndpointCommand (program: Command): void {
  program.command('bundle-endpoint')
    .description('serve a workload identity pool\'s trust bundle as a SPIFFE bundle endpoint (SPIFFE Federation), for partners to federate with')
    .requiredOption('-c, --config <file>', 'config file (YAML or JSON)')
    .requiredOption('--cert <file>', 'server certificate chain (PEM): an X509-SVID of the pool\'s domain for https_spiffe, a web certificate for https_web')
    .requiredOption('--key <file>', 'private key of --cert (PEM)')
    .option('--listen <host:port>', 'address to listen on (port 0 picks a free port)', '127.0.0.1:8443')
    .option('--pool <id>', 'workload identity pool whose ca bundle is served; default: the only pool with an issuance config')
    .option('--state <dir>', 'control plane state directory (CA pools); default: the config\'s credentials.stateDir')
    .option('--refresh-hint <duration>', 'spiffe_refresh_hint served, a duration of whole seconds like 300s or 5m', DEFAULT_REFRESH_HINT)
    .addOption(logLevelOption()).addOption(logFormatOption())
    .action(async (opts: BundleEndpointCommandOptions & LogFlags) => {
      const logs = openCommandLog(opts, { stdout: process.stdout, stderr: process.stderr })
      const out = { stdout: process.stdout, stderr: process.stderr, log: logs.log }
      const started = await startBundleEndpointCommand(opts, out)
      if (typeof started === 'number') { process.exitCode = started; return }
      const signal = await new Promise<NodeJS.Signals>((resolve) => {
        const stop = (sig: NodeJS.Signals): void => { process.off('SIGTERM', stop); process.off('SIGINT', stop); resolve(sig) }
        process.on('SIGTERM', stop)
        process.on('SIGINT', stop)
      })
      lifecycle(logs.log).info({ signal }, `${signal}: stopping`)
      await started.close()
      logs.close()
      process.exitCode = EXIT.OK
    })
}
