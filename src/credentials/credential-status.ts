import type { CredentialSnapshot } from './credential-snapshot.ts'
import type { CredentialError } from './outcome.ts'

/** Why the credentials are not ready. */
export type NotReadyReason =
  /** Nothing accepted yet (source not configured, unreachable, or delivering bad material). */
  | 'pending'
  /** The only snapshot left has expired: the TLS layer must fail closed. */
  | 'expired'
  /** The snapshot's SVID is not valid yet (clock skew between issuer and proxy). */
  | 'not-yet-valid'

/** Readiness of the credential store, for `/readyz` and `/status`. */
export type CredentialStatus =
  | { ready: true, generation: number, expiresAt: number, lastError?: CredentialError }
  | { ready: false, reason: NotReadyReason, message: string, lastError?: CredentialError }

/** Returns the status implied by the current snapshot and the last error at `now`. */
export function credentialStatus (current: CredentialSnapshot | undefined, lastError: CredentialError | undefined, now: number): CredentialStatus {
  const err = lastError === undefined ? {} : { lastError }
  if (current === undefined) {
    const why = lastError === undefined ? 'waiting for the first credentials' : `${lastError.code}: ${lastError.message}`
    return { ready: false, reason: 'pending', message: `no credentials accepted yet (${why})`, ...err }
  }
  if (now > current.svid.notAfter) {
    return {
      ready: false,
      reason: 'expired',
      message: `svid ${current.svid.id.toString()} expired at ${new Date(current.svid.notAfter).toISOString()} and no valid replacement was accepted`,
      ...err
    }
  }
  if (now < current.svid.notBefore) {
    return { ready: false, reason: 'not-yet-valid', message: `svid not valid before ${new Date(current.svid.notBefore).toISOString()}`, ...err }
  }
  return { ready: true, generation: current.generation, expiresAt: current.svid.notAfter, ...err }
}
