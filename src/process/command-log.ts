import { pino } from 'pino'
import type { Logger } from 'pino'
import { quote } from '../internal/errors.ts'
import type { CommandOutput } from './command-output.ts'
import { cliError } from './errors.ts'
import { fdWriter } from './fd-writer.ts'
import { bufferedLogDestination } from './log-destination.ts'
import { prettyDestination } from './pretty-log.ts'

/**
 * One log output per long-running command (`serve`, `up`, `backend`, `agent`,
 * `metadata-server`, `workload-api`): every line on stdout is a log record, as JSON lines or as
 * pino-pretty's readable lines, never both. What the commands used to print as plain lines
 * (listening, ready, reload refused, stopped) are records with a readable `msg`.
 */

/** pino's numeric `info` level. */
const INFO = 30

/** The values of `--log-format`. */
export const LOG_FORMATS = ['pretty', 'json'] as const
export type LogFormat = typeof LOG_FORMATS[number]

/** The log flags of a command, as commander parses them. */
export interface LogFlags { logLevel?: string | undefined, logFormat?: string | undefined }

/** A command's logger and how to empty its destination. */
export interface CommandLog {
  log: Logger
  format: LogFormat
  /** The pino level (or `silent`) the command logs at. */
  level: string
  /** Writes what is buffered (JSON mode buffers; pretty mode writes each line at once). */
  flush: () => void
  /** Writes what is buffered synchronously and stops the periodic flush. Idempotent. */
  close: () => void
}

/** Returns `--log-level` when it is a pino level or `silent`; throws `ERR_SPIFFE_CLI_LOG_LEVEL`. */
export function logLevelFlag (value: string): string {
  if (Object.hasOwn(pino.levels.values, value) || value === 'silent') return value
  throw cliError('ERR_SPIFFE_CLI_LOG_LEVEL',
    `--log-level must be one of ${[...Object.keys(pino.levels.values), 'silent'].join(', ')}, got ${quote(value)}`, { at: '--log-level' })
}

/**
 * Returns the log format: `--log-format` when given, else pretty on a terminal and JSON
 * otherwise (a pipe, a file, a container's log collector). Throws `ERR_SPIFFE_CLI_LOG_FORMAT`.
 */
export function logFormatFlag (value: string | undefined, isTty: boolean): LogFormat {
  if (value === undefined) return isTty ? 'pretty' : 'json'
  const format = LOG_FORMATS.find((f) => f === value)
  if (format === undefined) {
    throw cliError('ERR_SPIFFE_CLI_LOG_FORMAT', `--log-format must be one of ${LOG_FORMATS.join(', ')}, got ${quote(value)}`, { at: '--log-format' })
  }
  return format
}

/**
 * Returns the logger of a command writing to `out.stdout`. On the process's own stdout, JSON
 * goes through the buffered destination (log-destination.ts: flushed every second, on drain
 * and on exit) and pretty lines are written synchronously; another stream (a test's capture)
 * is written directly. `base` fields go on every record.
 */
export function openCommandLog (flags: LogFlags, out: CommandOutput, base: Record<string, unknown> = {}): CommandLog {
  const level = logLevelFlag(flags.logLevel ?? 'info')
  const isTty = (out.stdout as { isTTY?: boolean }).isTTY === true
  const format = logFormatFlag(flags.logFormat, isTty)
  const own = out.stdout === process.stdout
  const options = { level, base: { svc: 'spiffe-lb', ...base } }
  if (format === 'pretty') {
    const sink = own ? fdWriter(1, { sync: true }) : out.stdout
    return { log: pino(options, prettyDestination(sink, own && isTty)), format, level, flush: () => {}, close: () => {} }
  }
  if (!own) return { log: pino(options, out.stdout), format, level, flush: () => {}, close: () => {} }
  const destination = bufferedLogDestination()
  return { log: pino(options, destination.stream), format, level, flush: destination.flush, close: destination.close }
}

/**
 * Returns the logger for a command's lifecycle records (serving, listening, reloaded, ready,
 * stopped): `log` itself, or a child at `info` when `log` is set above it, so `--log-level warn`
 * quiets the access log but still says where the command listens. `silent` stays silent.
 */
export function lifecycle (log: Logger): Logger {
  if (log.level === 'silent' || log.levelVal <= INFO) return log
  return log.child({}, { level: 'info' })
}

/** Returns the command's logger from `out`, or a JSON logger on `out.stdout` when it brings none (library callers, tests). */
export function commandLogger (out: CommandOutput): Logger {
  return out.log ?? pino({ base: { svc: 'spiffe-lb' } }, out.stdout)
}
