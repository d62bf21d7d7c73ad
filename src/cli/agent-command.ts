import type { Command } from 'commander'
import { logFormatOption, logLevelOption } from './log-options.ts'
import { DEFAULT_METADATA_ROOT } from '../credentials/metadata-client.ts'
import { runAgentOnce, startAgentCommand, type AgentCommandOptions } from '../server/agent.ts'
import { EXIT } from '../server/command-output.ts'
import { lifecycle, openCommandLog, type LogFlags } from '../server/command-log.ts'
import { METADATA_POLL_INTERVAL_MS, flagSeconds } from '../defaults.ts'

/** Registers `spiffe-lb agent`. */
export function registerAgentCommand (program: Command): void {
  program.command('agent')
    .description('keep a directory in the GCE credential layout (certificates.pem, private_key.pem, ca_certificates.pem, trust_bundles.json, config_status) up to date from a metadata server, swapping a symlink atomically like the guest agent')
    .option('--metadata <url>', 'the metadata server\'s root', DEFAULT_METADATA_ROOT)
    .requiredOption('--out <dir>', 'the credential directory to maintain (a symlink), e.g. /var/run/secrets/workload-spiffe-credentials')
    .option('--interval <duration>', 'refresh interval', flagSeconds(METADATA_POLL_INTERVAL_MS))
    .addOption(logLevelOption()).addOption(logFormatOption())
    .option('--once', 'refresh once and exit (0 written or current, 1 not configured or failed)')
    .action(async (opts: AgentCommandOptions & LogFlags) => {
      const logs = openCommandLog(opts, { stdout: process.stdout, stderr: process.stderr })
      const out = { stdout: process.stdout, stderr: process.stderr, log: logs.log }
      if (opts.once === true) { process.exitCode = await runAgentOnce(opts, out); logs.close(); return }
      const agent = startAgentCommand(opts, out)
      const signal = await new Promise<NodeJS.Signals>((resolve) => {
        const stop = (sig: NodeJS.Signals): void => { process.off('SIGTERM', stop); process.off('SIGINT', stop); resolve(sig) }
        process.on('SIGTERM', stop)
        process.on('SIGINT', stop)
      })
      lifecycle(logs.log).info({ signal }, `${signal}: stopping`)
      await agent.stop()
      logs.close()
      process.exitCode = EXIT.OK
    })
}
