import type { X509Certificate } from 'node:crypto'
import { SpiffeLbError, quote } from '../internal/errors.ts'
import type { SpiffeId } from '../spiffe/spiffe-id.ts'
import type { TrustDomain } from '../spiffe/trust-domain.ts'
import type { X509BundleSource } from '../spiffe/source.ts'
import type { X509Snapshot } from '../spiffe/snapshot.ts'
import type { RevocationByDomain } from '../spiffe/revocation.ts'
import { verifyX509Svid } from '../spiffe/verify-x509-svid.ts'
import type { VerifiedSvid } from '../spiffe/verify-x509-svid.ts'
import { TlsPeerRejectedError, tlsError, type TlsErrorCode } from './errors.ts'

/**
 * Returns the verified SVID of a TLS peer: `chain` (leaf first) must verify against the bundle of
 * the leaf's own trust domain in `bundles` for `role` at `now` (docs/architecture.md#security-model). Throws
 * {@link TlsPeerRejectedError}: `ERR_SPIFFE_TLS_NO_PEER_CERTIFICATE` for an empty chain
 * (`…_RESUMED_UNVERIFIED` on a resumed session), else `ERR_SPIFFE_TLS_PEER_REJECTED` whose
 * `reason` is the verification error's code and whose `cause` is that error
 * (`ERR_SPIFFE_VERIFY_REVOKED` for a certificate a CRL of the peer's domain in `revocation` lists).
 */
export function verifyPeer (chain: readonly X509Certificate[], bundles: X509BundleSource,
  role: 'server' | 'client', now: number, at: string, resumed = false, revocation?: RevocationByDomain): VerifiedSvid {
  const who = role === 'server' ? 'backend' : 'client'
  if (chain.length === 0) {
    const code = resumed ? 'ERR_SPIFFE_TLS_RESUMED_UNVERIFIED' : 'ERR_SPIFFE_TLS_NO_PEER_CERTIFICATE'
    throw new TlsPeerRejectedError(code, code, resumed
      ? `${who} ${quote(at)} resumed a session that was never verified`
      : `${who} ${quote(at)} presented no certificate (an x509-svid is required)`, { at })
  }
  try {
    return verifyX509Svid(chain, bundles, { role, now, ...(revocation === undefined ? {} : { revocationByDomain: revocation }) })
  } catch (err) {
    const reason = err instanceof SpiffeLbError ? err.code : 'ERR_SPIFFE_TLS_PEER_REJECTED' satisfies TlsErrorCode
    const message = err instanceof Error ? err.message : String(err)
    throw new TlsPeerRejectedError('ERR_SPIFFE_TLS_PEER_REJECTED' satisfies TlsErrorCode, reason,
      `${who} ${quote(at)} rejected: ${message}`, { at, cause: err })
  }
}

/**
 * Throws `ERR_SPIFFE_TLS_PEER_NOT_ALLOWED` unless `id` is listed in `allowIds` or its trust domain
 * in `allowTrustDomains` (the union of both lists). No lists, or two empty ones, allow any ID.
 */
export function checkAllowed (id: SpiffeId, at: string, allowIds: readonly SpiffeId[] = [],
  allowTrustDomains: readonly TrustDomain[] = []): void {
  if (allowIds.length === 0 && allowTrustDomains.length === 0) return
  if (allowIds.some((a) => a.equals(id))) return
  if (allowTrustDomains.some((td) => id.memberOf(td))) return
  throw new TlsPeerRejectedError('ERR_SPIFFE_TLS_PEER_NOT_ALLOWED', 'ERR_SPIFFE_TLS_PEER_NOT_ALLOWED',
    `peer ${quote(at)} with spiffe id ${quote(id.toString())} is not on the allow-list`, { at })
}

/**
 * Throws unless `snapshot` can be presented at `now`: the source's own `usable(now)` when it has
 * one, else the SVID leaf's validity period. Fail closed: an expired SVID is never offered.
 */
export function usableSnapshot (source: { usable?(now: number): boolean }, snapshot: X509Snapshot, now: number): void {
  const ok = source.usable !== undefined
    ? source.usable(now)
    : now >= snapshot.svid.notBefore && now <= snapshot.svid.notAfter
  if (!ok) {
    throw tlsError('ERR_SPIFFE_TLS_NO_CREDENTIALS', `svid ${quote(snapshot.svid.id.toString())} is not usable at ${new Date(now).toISOString()}`)
  }
}
