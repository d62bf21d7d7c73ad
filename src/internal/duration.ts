/**
 * The one duration syntax of spiffe-lb, shared by every CLI flag and every config duration:
 * a number with a unit, `ms`, `s`, `m` or `h` (`500ms`, `3s`, `1.5s`, `1m`, `24h`), or units in
 * a row (`1m30s`, `1h30m`). The cloud's protobuf-JSON form (`"86400s"`, fractional `"1.5s"`,
 * https://protobuf.dev/reference/protobuf/google.protobuf/#duration) is the `s` case, so a
 * pasted `gcloud … describe` keeps working. A unit is required: a bare `30` could mean seconds
 * or milliseconds, and a timeout 1000× off is worse than an error.
 */

const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }
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

