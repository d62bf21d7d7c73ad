import { isSpiffeLbError } from '../internal/errors.ts'
import type { CredentialsErrorCode } from './errors.ts'
import type { CredentialSnapshot } from './credential-snapshot.ts'

/** Outcome of one load attempt; `rejected` covers fetch, parse and validation failures alike. */
export type ReloadResult = 'accepted' | 'unchanged' | 'rejected'

/** The last failure, kept for `/status` and logs. */
export interface CredentialError {
  /** Stable `ERR_SPIFFE_…` code. */
  code: string
  message: string
  /** File, URL or field the error points at, when known. */
  where?: string
  /** Source that reported it. */
  source: string
  /** When (ms since the epoch, store clock). */
  at: number
}

/** What the store did with one attempt. */
export interface AttemptOutcome {
  result: ReloadResult
  source: string
  /** The snapshot in force after the attempt. */
  snapshot: CredentialSnapshot | undefined
  error?: CredentialError
  /** What was put in force anyway but deserves a word (a configured trust domain the source overrode). */
  warnings?: CredentialError[]
}

/** Returns `err` as a {@link CredentialError}; errors without a code get `ERR_SPIFFE_CREDENTIALS_SOURCE_FAILED`. */
export function toCredentialError (err: unknown, source: string, at: number): CredentialError {
  if (isSpiffeLbError(err)) return { code: err.code, message: err.message, source, at, ...(err.at === undefined ? {} : { where: err.at }) }
  return { code: 'ERR_SPIFFE_CREDENTIALS_SOURCE_FAILED' satisfies CredentialsErrorCode, message: err instanceof Error ? err.message : String(err), source, at }
}
