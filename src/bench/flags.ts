import { SpiffeLbError, quote } from '../internal/errors.ts'
import { benchError } from './errors.ts'

/** Returns the `ERR_SPIFFE_BENCH_BAD_OPTION` error for `flag`: `--duration "3" must be …`. */
export function badOption (flag: string, value: unknown, rule: string): SpiffeLbError {
  return benchError('ERR_SPIFFE_BENCH_BAD_OPTION', `${flag} ${quote(value)} ${rule}`, { at: flag })
}

/**
 * Returns a benchmark duration flag (`250ms`, `3s`, `1.5s`, `2m`) in ms. The unit is required:
 * a bare `3` could mean seconds or milliseconds, and a benchmark that silently ran 1000x too
 * short or long would report nonsense. Throws {@link badOption} below `min` ms.
 */
export function parseDurationFlag (flag: string, value: string, min = 0): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)$/.exec(value.trim())
  if (m === null) throw badOption(flag, value, 'must be a duration with a unit, like 250ms, 3s or 1m')
  const ms = Math.round(Number(m[1]) * (m[2] === 'ms' ? 1 : m[2] === 's' ? 1000 : 60_000))
  if (ms < min) throw badOption(flag, value, `must be at least ${min} ms`)
  return ms
}
