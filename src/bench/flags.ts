import { SpiffeLbError, quote } from '../internal/errors.ts'
import { benchError } from './errors.ts'
import { DURATION_SYNTAX, parseDurationMs } from '../internal/duration.ts'

/** Returns the `ERR_SPIFFE_BENCH_BAD_OPTION` error for `flag`: `--duration "3" must be …`. */
export function badOption (flag: string, value: unknown, rule: string): SpiffeLbError {
  return benchError('ERR_SPIFFE_BENCH_BAD_OPTION', `${flag} ${quote(value)} ${rule}`, { at: flag })
}

/**
 * Returns a benchmark duration flag (`250ms`, `3s`, `1.5s`, `2m`; internal/duration.ts) in ms. The unit is required:
 * a bare `3` could mean seconds or milliseconds, and a benchmark that silently ran 1000x too
 * short or long would report nonsense. Throws {@link badOption} below `min` ms.
 */
export function parseDurationFlag (flag: string, value: string, min = 0): number {
  const ms = parseDurationMs(value.trim())
  if (ms === undefined) throw badOption(flag, value, `must be ${DURATION_SYNTAX}`)
  if (ms < min) throw badOption(flag, value, `must be at least ${min} ms`)
  return ms
}
