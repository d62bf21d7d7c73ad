import type { X509Certificate } from 'node:crypto'
import type { TimerHandle } from '../internal/clock.ts'
import { isSpiffeLbError, quote } from '../internal/errors.ts'
import { loadCrl } from '../pki/crl.ts'
import { normalizeSerial, type RevocationList, type StaleCrlPolicy } from '../spiffe/revocation.ts'
import { readCrlBytes } from './crl-read.ts'
import type { CredentialsErrorCode } from './errors.ts'

/** Where the CRLs of one trust domain come from, and what a stale one means. */
export interface DomainCrlInput {
  trustDomain: string
  /** CRL files (PEM or DER), re-read when they change. */
  files: readonly string[]
  /** CRL urls, fetched with undici and again before their nextUpdate. */
  urls: readonly string[]
  staleCrl: StaleCrlPolicy
  /**
   * CA certificates that may sign these CRLs besides the domain's bundle authorities: the local
   * CA pool's issuing CA (a subordinate is not in the bundle). A CRL nobody trusted signed is refused.
   */
  issuers?: readonly X509Certificate[]
  /** A missing file is no CRL rather than an error (the local CA pool's, before any `ca revoke`). */
  optional?: boolean
}

/** What `/status` shows about one CRL: its source, validity, size, and its last error. */
export interface CrlStatus {
  trustDomain: string
  source: string
  staleCrl: StaleCrlPolicy
  thisUpdate?: string
  nextUpdate?: string
  revoked?: number
  /** True past the nextUpdate of the CRL in force. */
  stale?: boolean
  lastError?: { code: string, message: string }
}

/** One configured CRL (a file or a url of a domain): its last bytes, last good CRL and last error. */
export interface CrlEntry {
  input: DomainCrlInput
  source: string
  kind: 'file' | 'url'
  bytes?: Buffer | undefined
  good?: RevocationList | undefined
  error?: { code: string, message: string } | undefined
  /** The error object behind `error`, rethrown by `start`. */
  thrown?: unknown
  timer?: TimerHandle | undefined
  /** The stale CRL last warned about (once each). */
  warned?: RevocationList
}


/**
 * Reads the entry's file or url and verifies it (see {@link verifyCrlEntry}) against the
 * domain's anchors `anchors()` returns. A read error is recorded in the entry, the last good CRL
 * stays; a missing optional file means no CRL.
 */
export async function readCrlEntry (e: CrlEntry, anchors: () => readonly X509Certificate[] | undefined): Promise<void> {
  let bytes: Buffer
  try {
    bytes = await readCrlBytes(e.kind, e.source)
  } catch (err) {
    const missing = ((err as { cause?: NodeJS.ErrnoException }).cause)?.code === 'ENOENT'
    if (missing && e.input.optional === true) { e.error = undefined; e.good = undefined; e.bytes = undefined; return }
    e.error = errorOf(err)
    e.thrown = err
    return
  }
  e.bytes = bytes
  await verifyCrlEntry(e, bytes, anchors())
}

/**
 * Verifies `bytes` against the domain's `anchors` plus the entry's own issuers and makes it the
 * entry's good CRL; without anchors (no bundle yet) the entry waits
 * (`ERR_SPIFFE_CREDENTIALS_CRL_NO_BUNDLE`); a failure is recorded and the last good CRL stays.
 */
export async function verifyCrlEntry (e: CrlEntry, bytes: Buffer, anchors: readonly X509Certificate[] | undefined): Promise<void> {
  if (anchors === undefined) {
    e.error = { code: 'ERR_SPIFFE_CREDENTIALS_CRL_NO_BUNDLE' satisfies CredentialsErrorCode, message: `crl ${quote(e.source)} waits for a bundle of trust domain ${quote(e.input.trustDomain)} to verify it` }
    return
  }
  try {
    const crl = await loadCrl(bytes, e.source, [...anchors, ...(e.input.issuers ?? [])])
    e.good = {
      issuerFingerprint: crl.issuer.fingerprint256,
      revokedSerials: new Set(crl.revokedSerials.map(normalizeSerial)),
      thisUpdate: crl.thisUpdate,
      nextUpdate: crl.nextUpdate,
      source: e.source
    }
    e.error = undefined
  } catch (err) {
    e.error = errorOf(err)
    e.thrown = err
  }
}

/** Returns what `/status` shows of the entry at `now`. */
export function crlEntryStatus (e: CrlEntry, now: number): CrlStatus {
  return {
    trustDomain: e.input.trustDomain,
    source: e.source,
    staleCrl: e.input.staleCrl,
    ...(e.good === undefined
      ? {}
      : {
          thisUpdate: new Date(e.good.thisUpdate).toISOString(),
          ...(e.good.nextUpdate === undefined ? {} : { nextUpdate: new Date(e.good.nextUpdate).toISOString() }),
          revoked: e.good.revokedSerials.size,
          stale: e.good.nextUpdate !== undefined && now > e.good.nextUpdate
        }),
    ...(e.error === undefined ? {} : { lastError: e.error })
  }
}

function errorOf (err: unknown): { code: string, message: string } {
  return isSpiffeLbError(err) ? { code: err.code, message: err.message } : { code: 'ERR_SPIFFE_CREDENTIALS_CRL_UNREADABLE' satisfies CredentialsErrorCode, message: err instanceof Error ? err.message : String(err) }
}
