import { EXIT } from './command-output.ts'
import { lifecycle, openCommandLog, type CommandLog, type LogFlags } from './command-log.ts'

/** Where a long-running command writes: its streams and its one log. */
export interface LongRunningOutput { stdout: NodeJS.WriteStream, stderr: NodeJS.WriteStream, log: CommandLog['log'] }

/** What a long-running command's start gives: an exit code when it ended (or never started), or what to close. */
export type Started = number | { close: () => Promise<void> }

/**
 * Opens the command's log from its `--log-level`/`--log-format` flags, runs `start`, and when
 * that returns something to close, waits for SIGTERM or SIGINT, logs the stop, closes it and
 * exits 0. When `start` returns an exit code, that is the process's exit code. Resolves when
 * the command is done; the shared shape of `agent`, `metadata-server`, `workload-api` and
 * `bundle-endpoint`.
 */
export async function runUntilSignal (flags: LogFlags, start: (out: LongRunningOutput) => Promise<Started> | Started): Promise<void> {
  const logs = openCommandLog(flags, { stdout: process.stdout, stderr: process.stderr })
  const started = await start({ stdout: process.stdout, stderr: process.stderr, log: logs.log })
  if (typeof started === 'number') {
    logs.close()
    process.exitCode = started
    return
  }
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    const stop = (sig: NodeJS.Signals): void => { process.off('SIGTERM', stop); process.off('SIGINT', stop); resolve(sig) }
    process.on('SIGTERM', stop)
    process.on('SIGINT', stop)
  })
  lifecycle(logs.log).info({ signal }, `${signal}: stopping`)
  await started.close()
  logs.close()
  process.exitCode = EXIT.OK
}
