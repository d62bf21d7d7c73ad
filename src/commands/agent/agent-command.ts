import type { Command } from 'commander'
import { logFormatOption, logLevelOption } from '../../process/log-options.ts'
import { DEFAULT_METADATA_ROOT } from '../../credentials/metadata-client.ts'
import { runAgentOnce, startAgentCommand, type AgentCommandOptions } from '../../testbed/agent-runner.ts'
import type { LogFlags } from '../../process/command-log.ts'
import { runUntilSignal } from '../../process/run-until-signal.ts'
import { METADATA_POLL_INTERVAL_MS } from '../../defaults.ts'
import { formatDuration } from '../../internal/duration.ts'

/** Registers `spiffe-lb agent`. */
export function registerAgentCommand (program: Command): void {
  program.command('agent')
    .description('keep a directory in the GCE credential layout (certificates.pem, private_key.pem, ca_certificates.pem, trust_bundles.json, config_status) up to date from a metadata server, swapping a symlink atomically like the guest agent')
    .option('--metadata <url>', 'the metadata server\'s root', DEFAULT_METADATA_ROOT)
    .requiredOption('--out <dir>', 'the credential directory to maintain (a symlink), e.g. /var/run/secrets/workload-spiffe-credentials')
    .option('--interval <duration>', 'refresh interval', formatDuration(METADATA_POLL_INTERVAL_MS))
    .addOption(logLevelOption()).addOption(logFormatOption())
    .option('--once', 'refresh once and exit (0 written or current, 1 not configured or failed)')
    .action(async (opts: AgentCommandOptions & LogFlags) => {
      await runUntilSignal(opts, async (out) => {
        if (opts.once === true) return await runAgentOnce(opts, out)
        const agent = startAgentCommand(opts, out)
        return { close: async () => { await agent.stop() } }
      })
    })
}
