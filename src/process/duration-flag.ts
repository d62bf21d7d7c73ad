import { DURATION_SYNTAX, parseDurationMs } from '../internal/duration.ts'
import { quote } from '../internal/errors.ts'
import { cliError } from './errors.ts'

/** The codes a duration flag can fail with: one per flag family, stable public API. */
export type DurationFlagCode = 'ERR_SPIFFE_CLI_DURATION' | 'ERR_SPIFFE_CLI_LIFETIME' | 'ERR_SPIFFE_CLI_INTERVAL' | 'ERR_SPIFFE_CLI_PROBE_TIMEOUT'

/**
 * Returns the value of duration flag `flag` (`--drain-timeout 500ms`, `--lifetime 24h`) in
 * milliseconds, parsed by the one duration parser (internal/duration.ts). Throws `code`
 * (default `ERR_SPIFFE_CLI_DURATION`, a usage error: exit 2) naming the flag and quoting the
 * value when it is not a duration or is below `minMs`.
 */
export function durationFlag (flag: string, value: string, minMs = 0, code: DurationFlagCode = 'ERR_SPIFFE_CLI_DURATION'): number {
  const ms = parseDurationMs(value)
  if (ms === undefined) {
    throw cliError(code, `${flag} must be ${DURATION_SYNTAX}, got ${quote(value)}`, { at: flag })
  }
  if (ms < minMs) {
    throw cliError(code, `${flag} must be at least ${minMs < 1000 ? `${minMs}ms` : `${minMs / 1000}s`}, got ${quote(value)}`, { at: flag })
  }
  return ms
}
