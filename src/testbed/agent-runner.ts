import { runAgent, type AgentHandle } from '../control/agent.ts'
import { isSpiffeLbError } from '../internal/errors.ts'
import type { CommandOutput } from '../process/command-output.ts'
import { EXIT } from '../process/command-output.ts'
import { durationFlag } from '../process/duration-flag.ts'
import { commandLogger } from '../process/command-log.ts'

/** Options of `spiffe-lb agent`, as commander parses them. */
export interface AgentCommandOptions {
  metadata: string
  out: string
  interval: string
  once?: boolean
}

/**
 * Runs `spiffe-lb agent --once`: one refresh of `--out` from the metadata server. Returns 0 when
 * the directory is current (written or unchanged), 1 when the instance is not configured
 * (HTTP 412) or the refresh failed.
 */
export async function runAgentOnce (opts: AgentCommandOptions, out: CommandOutput): Promise<number> {
  const agent = startAgentCommand({ ...opts, once: true }, out)
  try {
    const result = await agent.first
    if (result === 'not-configured') {
      commandLogger(out).warn({ metadata: opts.metadata }, `${opts.metadata} answers 412: workload certificates are not configured yet; nothing written`)
      return EXIT.FAILED
    }
    return EXIT.OK
  } catch (err) {
    if (!isSpiffeLbError(err)) throw err
    return EXIT.FAILED // already reported by onError
  } finally {
    await agent.stop()
  }
}

/** Starts the agent loop, logging each write at info and each failure at warn (`out.log`). */
export function startAgentCommand (opts: AgentCommandOptions, out: CommandOutput): AgentHandle {
  const intervalMs = durationFlag('--interval', opts.interval, 100, 'ERR_SPIFFE_CLI_INTERVAL')
  const log = commandLogger(out)
  return runAgent({
    metadataUrl: opts.metadata,
    outDir: opts.out,
    intervalMs,
    once: opts.once === true,
    onWrite: (dir) => { log.info({ out: opts.out, dir }, `wrote ${opts.out} -> ${dir}`) },
    onError: (err) => { log.warn({ code: err.code, at: err.at }, `${err.message}${err.at === undefined ? '' : ` (at ${err.at})`} (${err.code})`) }
  })
}
