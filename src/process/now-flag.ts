import type { Clock } from '../internal/clock.ts'
import { quote } from '../internal/errors.ts'
import { cliError } from './errors.ts'

/** Returns the time `--now` names, or the clock's; throws `ERR_SPIFFE_CLI_NOW` for a non-ISO value. */
export function nowOption (value: string | undefined, clock: Clock): number {
  if (value === undefined) return clock.now()
  const ms = /^\d{4}-\d{2}-\d{2}T/.test(value) ? Date.parse(value) : NaN
  if (Number.isNaN(ms)) {
    throw cliError('ERR_SPIFFE_CLI_NOW', `--now must be an ISO 8601 time like 2026-01-01T00:00:00Z, got ${quote(value)}`, { at: '--now' })
  }
  return ms
}
