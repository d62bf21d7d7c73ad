/**
 * The one duration syntax of spiffe-lb, shared by every CLI flag and every config duration:
 * a number with a unit, `ms`, `s`, `m` or `h` (`500ms`, `3s`, `1.5s`, `1m`, `24h`), or units in
 * a row (`1m30s`, `1h30m`). The cloud's protobuf-JSON form (`"86400s"`, fractional `"1.5s"`,
 * https://protobuf.dev/reference/protobuf/google.protobuf/#duration) is the `s` case, so a
 * pasted `gcloud … describe` keeps working. A unit is required: a bare `30` could mean seconds
 * or milliseconds, and a timeout 1000× off is worse than an error. The one place durations are
 * read and written as text (docs/architecture.md#formats-and-defaults); the units are defaults.ts's.
 */

import { DAY_MS, HOUR_MS, MINUTE_MS, SECOND_MS } from '../defaults.ts'

const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: SECOND_MS, m: MINUTE_MS, h: HOUR_MS }
const PART = /(\d{1,12})(?:\.(\d{1,9}))?(ms|s|m|h)/y
/** The syntax in words, for the error messages of the layers that use the parser. */
export const DURATION_SYNTAX = 'a number with a unit (ms, s, m or h), like "500ms", "30s", "1.5s", "5m", "24h" or "1m30s"'

/**
 * Returns `text` as a whole number of milliseconds (rounded), or undefined when it is not a
 * duration in the syntax above (empty, no unit, a sign, spaces, exponents, unknown units).
 */
export function parseDurationMs (text: string): number | undefined {
  if (text === '') return undefined
  PART.lastIndex = 0
  let ms = 0
  while (PART.lastIndex < text.length) {
    const m = PART.exec(text)
    if (m === null) return undefined
    const unit = UNIT_MS[m[3] ?? ''] ?? 0
    ms += Number(m[1]) * unit + Number(`0.${m[2] ?? '0'}`) * unit
  }
  return Math.round(ms)
}


/** Returns milliseconds as a duration in the cloud's form, as flags and config show it: 86400000 → `"86400s"`. */
export function formatDuration (ms: number): string {
  return `${ms / SECOND_MS}s`
}

/** Returns `ms` as `2d 3h`, `23h 59m`, `5m 10s` or `42s`: the two largest units. */
export function formatSpan (ms: number): string {
  const abs = Math.abs(ms)
  const units: Array<[string, number]> = [['d', Math.floor(abs / DAY_MS)], ['h', Math.floor(abs / HOUR_MS) % 24], ['m', Math.floor(abs / MINUTE_MS) % 60], ['s', Math.floor(abs / SECOND_MS) % 60]]
  const first = units.findIndex(([, n]) => n > 0)
  if (first === -1) return '0s'
  return units.slice(first, first + 2).filter(([, n]) => n > 0).map(([u, n]) => `${n}${u}`).join(' ')
}
