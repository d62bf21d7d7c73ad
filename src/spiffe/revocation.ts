import type { X509Certificate } from 'node:crypto'
import { quote, type SpiffeLbError } from '../internal/errors.ts'
import { certLabel } from './cert-info.ts'
import { spiffeError } from './errors.ts'
import type { StaleCrlPolicy } from '../enums.ts'

/**
 * One CRL (RFC 5280 §5) already parsed and whose signature was verified against the key of
 * `issuerFingerprint`'s certificate (src/pki does that once, when the CRL is loaded), so the
 * per-verification check here is pure and cheap: a fingerprint match and a set lookup.
 */
export interface RevocationList {
  /** SHA-256 fingerprint (node's `fingerprint256` form) of the CA certificate that signed the CRL. */
  issuerFingerprint: string
  /** Serial numbers revoked, normalized by {@link normalizeSerial}. */
  revokedSerials: ReadonlySet<string>
  thisUpdate: number
  /** Past this time the CRL is stale; undefined when the CRL names no nextUpdate. */
  nextUpdate: number | undefined
  /** Where it came from (file, URL, `ca pool …`), for messages. */
  source: string
}

/**
 * What to do when the only CRL of an issuer is past its nextUpdate (enums.ts spells the values):
 * `fail-closed` (the default) rejects, because a revocation published since cannot be seen;
 * `fail-open` accepts and warns.
 */
export type { StaleCrlPolicy }

/** Revocation data for a verification. */
export interface RevocationOptions {
  lists: readonly RevocationList[]
  staleCrl?: StaleCrlPolicy
}

/** Returns a serial number as lowercase hex without leading zeros (how CRLs and node differ). */
export function normalizeSerial (hex: string): string {
  const s = hex.toLowerCase().replace(/[^0-9a-f]/g, '').replace(/^0+/, '')
  return s === '' ? '0' : s
}

/**
 * Checks every certificate of a verified `path` (leaf → … → authority) but the authority against
 * the CRLs its issuer (the next certificate of the path) signed. Calls `broken` with
 * `ERR_SPIFFE_VERIFY_REVOKED` for a listed serial and, under the `closed` policy,
 * `ERR_SPIFFE_VERIFY_CRL_STALE` for a stale CRL; `warn` gets the stale CRL under `open`.
 * An issuer without any CRL is not checked (CRLs are opt-in per trust domain).
 */
export function checkRevocation (path: readonly X509Certificate[], opts: RevocationOptions, now: number,
  broken: (err: SpiffeLbError) => void, warn: (message: string) => void = () => {}): void {
  for (let i = 0; i < path.length - 1; i++) {
    const cert = path[i] as X509Certificate
    const issuer = path[i + 1] as X509Certificate
    const lists = opts.lists.filter((l) => l.issuerFingerprint === issuer.fingerprint256)
    const serial = normalizeSerial(cert.serialNumber)
    const revoked = lists.find((l) => l.revokedSerials.has(serial))
    if (revoked !== undefined) {
      broken(spiffeError('ERR_SPIFFE_VERIFY_REVOKED',
        `certificate ${quote(certLabel(cert))} (serial ${serial}) is revoked by the crl of ${quote(certLabel(issuer))} from ${quote(revoked.source)}`))
      continue
    }
    for (const l of lists) {
      if (l.nextUpdate === undefined || now <= l.nextUpdate) continue
      const message = `crl of ${quote(certLabel(issuer))} from ${quote(l.source)} is stale: its nextUpdate ${new Date(l.nextUpdate).toISOString()} has passed (now ${new Date(now).toISOString()})`
      if ((opts.staleCrl ?? 'fail-closed') === 'fail-closed') broken(spiffeError('ERR_SPIFFE_VERIFY_CRL_STALE', `${message}; stale crls fail closed`))
      else warn(`${message}; accepted because stale crls fail open`)
    }
  }
}

/**
 * Revocation data of each trust domain, keyed by trust domain name: a backend of domain D is
 * checked only against the CRLs configured or delivered for D (under D's stale-CRL policy).
 */
export type RevocationByDomain = ReadonlyMap<string, RevocationOptions>

/**
 * Returns a string equal for two revocation data sets exactly when they revoke the same serials
 * with the same issuers, validity periods and stale policy: what decides whether a change of
 * CRLs must retire pooled connections and cached sessions of the domain.
 */
export function revocationKey (opts: RevocationOptions | undefined): string {
  if (opts === undefined) return ''
  const lists = opts.lists.map((l) => `${l.issuerFingerprint};${l.thisUpdate};${l.nextUpdate ?? ''};${[...l.revokedSerials].sort().join(',')}`).sort()
  return `${opts.staleCrl ?? 'fail-closed'}|${lists.join('|')}`
}

/** Returns the earliest nextUpdate among `opts`' CRLs (a verdict reached with them is good until then), or undefined. */
export function earliestNextUpdate (opts: RevocationOptions | undefined): number | undefined {
  let min: number | undefined
  for (const l of opts?.lists ?? []) if (l.nextUpdate !== undefined && (min === undefined || l.nextUpdate < min)) min = l.nextUpdate
  return min
}
