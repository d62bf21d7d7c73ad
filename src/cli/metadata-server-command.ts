import type { Command } from 'commander'
import { logFormatOption, logLevelOption } from './log-options.ts'
import { EXIT } from '../server/command-output.ts'
import { lifecycle, openCommandLog, type LogFlags } from '../server/command-log.ts'
import { startMetadataServerCommand, type MetadataServerCommandOptions } from '../server/metadata-server.ts'

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
      const logs = openCommandLog(opts, { stdout: process.stdout, stderr: process.stderr })
      const out = { stdout: process.stdout, stderr: process.stderr, log: logs.log }
      const started = await startMetadataServerCommand(opts, out)
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
