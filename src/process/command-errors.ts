import type { SpiffeLbError } from '../internal/errors.ts'
import { cliError } from './errors.ts'

/** Returns the coded error for a command line the parser refused; `message` already names the command's `--help`. */
export function usageError (message: string, cause: unknown): SpiffeLbError {
  return cliError('ERR_SPIFFE_CLI_USAGE', message, { cause })
}

/**
 * Returns the coded error for a failure without a code of its own (a bug or an environment
 * failure): its message on one line, with the system error code when it has one.
 */
export function unexpectedError (err: unknown): SpiffeLbError {
  const code = (err as { code?: unknown } | null)?.code
  const message = err instanceof Error ? err.message.replace(/\s+/g, ' ') : String(err)
  return cliError('ERR_SPIFFE_CLI_UNEXPECTED', `unexpected error: ${message}${typeof code === 'string' ? ` (${code})` : ''}`, { cause: err })
}
