import type { Command } from 'commander'
import { logFormatOption, logLevelOption } from '../../process/log-options.ts'
import type { LogFlags } from '../../process/command-log.ts'
import { runUntilSignal } from '../../process/run-until-signal.ts'
import { startMetadataServerCommand, type MetadataServerCommandOptions } from '../../testbed/metadata-server-runner.ts'

/** Registers `spiffe-lb metadata-server`. */
export function registerMetadataServerCommand (program: Command): void {
  program.command('metadata-server')
    .description('an emulated GCE metadata server: …/gce-workload-certificates/{workload-identities,trust-anchors,config-status}')
    .requiredOption('-c, --config <file>', 'config file (YAML or JSON)')
    .option('--listen <host:port>', 'address to listen on (port 0 picks a free port)', '127.0.0.1:8181')
    .option('--identity <identity>', 'managed identity to serve (//… or spiffe://…); default: the first in the config')
    .option('--state <dir>', 'control plane state directory (CA keys); default: the config\'s credentials.stateDir')
    .option('--lifetime <duration>', 'override the certificate lifetime of the pool\'s issuance config, e.g. 60s, to see rotations quickly')
    .addOption(logLevelOption()).addOption(logFormatOption())
    .action(async (opts: MetadataServerCommandOptions & LogFlags) => {
      await runUntilSignal(opts, async (out) => await startMetadataServerCommand(opts, out))
    })
}
