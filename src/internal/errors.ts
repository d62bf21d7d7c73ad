/**
 * The one error type every spiffe-lb module throws. `code` is stable public API
 * (`ERR_SPIFFE_…`); `message` is lowercase, states the rule broken and quotes the value.
 */
export class SpiffeLbError extends Error {
  readonly code: string
  /** Where the problem is: a config path (`backendServices[0].name`), a file, a field. */
  readonly at: string | undefined

  constructor (code: string, message: string, options: { at?: string, cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.name = 'SpiffeLbError'
    this.code = code
    this.at = options.at
  }
}

/** Returns true when `err` is a {@link SpiffeLbError}, optionally with the given code. */
export function isSpiffeLbError (err: unknown, code?: string): err is SpiffeLbError {
  return err instanceof SpiffeLbError && (code === undefined || err.code === code)
}

/** Quotes a value for an error message, shortened so a huge input cannot flood a log line. */
export function quote (value: unknown, max = 120): string {
  const s = typeof value === 'string' ? value : String(value)
  const shown = s.length > max ? `${s.slice(0, max)}…(${s.length} chars)` : s
  return JSON.stringify(shown)
}
