import { Option } from 'commander'
import { LOG_FORMATS } from './command-log.ts'

/**
 * The log flags every long-running command shares (`serve`, `up`, `backend`, `agent`,
 * `metadata-server`, `workload-api`), added with `.addOption(…)` so each command file changes
 * by one line. Values are checked where the log opens (process/command-log.ts), exit 2.
 */

/** Returns `--log-level <level>` with `fallback` as its default. */
export function logLevelOption (fallback = 'info'): Option {
  return new Option('--log-level <level>', 'pino log level (trace, debug, info, warn, error, fatal) or silent').default(fallback)
}

/** Returns `--log-format <format>`: pretty or json; without it, pretty on a terminal and json otherwise. */
export function logFormatOption (): Option {
  return new Option('--log-format <format>', `log output: ${LOG_FORMATS.join(' or ')} (default: pretty on a terminal, json otherwise)`)
}
