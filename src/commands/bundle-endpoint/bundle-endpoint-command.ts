import type { Command } from 'commander'
import { DEFAULT_REFRESH_HINT, startBundleEndpointCommand, type BundleEndpointCommandOptions } from '../../testbed/bundle-endpoint-runner.ts'
import type { LogFlags } from '../../process/command-log.ts'
import { runUntilSignal } from '../../process/run-until-signal.ts'
import { logFormatOption, logLevelOption } from '../../process/log-options.ts'

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
      await runUntilSignal(opts, async (out) => await startBundleEndpointCommand(opts, out))
    })
}
