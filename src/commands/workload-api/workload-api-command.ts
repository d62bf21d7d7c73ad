import type { Command } from 'commander'
import { logFormatOption, logLevelOption } from '../../process/log-options.ts'
import type { LogFlags } from '../../process/command-log.ts'
import { runUntilSignal } from '../../process/run-until-signal.ts'
import { startWorkloadApiCommand, type WorkloadApiCommandOptions } from '../../testbed/workload-api-runner.ts'

/** Registers `spiffe-lb workload-api`. */
export function registerWorkloadApiCommand (program: Command): void {
  program.command('workload-api')
    .description('serve one managed identity over the SPIFFE Workload API (FetchX509SVID, FetchX509Bundles)')
    .requiredOption('-c, --config <file>', 'config file (YAML or JSON)')
    .requiredOption('--listen <address>', 'unix:///<absolute-path> (its directory must exist, writable by this user only) or tcp://<ip>:<port>')
    .option('--socket-mode <octal>', 'mode of the unix socket, whatever the umask (default 600: only this user may connect)')
    .requiredOption('--identity <identity>', 'managed identity to serve (//<pool>.global.<project-number>.workload.id.goog/ns/<ns>/sa/<id> or spiffe://…)')
    .option('--resource <name>', 'googleCloudResource the attestation rules must admit; default: the backend service presenting the identity')
    .option('--state <dir>', 'control plane state directory (CA keys); default: the config\'s credentials.stateDir')
    .option('--lifetime <duration>', 'override the certificate lifetime of the pool\'s issuance config, e.g. 60s, to see rotations quickly')
    .addOption(logLevelOption()).addOption(logFormatOption())
    .action(async (opts: WorkloadApiCommandOptions & LogFlags) => {
      await runUntilSignal(opts, async (out) => await startWorkloadApiCommand(opts, out))
    })
}
