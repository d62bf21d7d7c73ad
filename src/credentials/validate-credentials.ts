import { createPublicKey } from 'node:crypto'
import { SpiffeLbError, quote } from '../internal/errors.ts'
import type { BundleSet } from '../spiffe/bundle-set.ts'
import type { SpiffeId } from '../spiffe/spiffe-id.ts'
import { verifyX509Svid } from '../spiffe/verify-x509-svid.ts'
import type { X509Svid } from '../spiffe/x509-svid.ts'
import type { RevocationList } from '../spiffe/revocation.ts'
import { credentialsError } from './errors.ts'

/** What a source hands to the store: an SVID and the bundles delivered with it. */
export interface CredentialCandidate {
  svid: X509Svid
  bundles: BundleSet
  /** CRLs delivered with the credentials (Workload API), already verified, by trust domain. */
  crls?: ReadonlyMap<string, readonly RevocationList[]>
}

/**
 * Checks that a candidate is whole and consistent before anyone may use it: the private key
 * belongs to the leaf, the leaf is within its validity period at `now`, its SPIFFE ID is the
 * configured identity, and the chain verifies (role `client`, since the proxy presents it to
 * backends) against the bundle of the leaf's own trust domain (docs/architecture.md#security-model).
 * Throws a coded {@link SpiffeLbError}; returns nothing.
 */
export function validateCandidate (candidate: CredentialCandidate, opts: { identity: SpiffeId, now: number }): void {
  const { svid, bundles } = candidate
  const leafKey = svid.leaf.publicKey.export({ type: 'spki', format: 'der' })
  const ownKey = createPublicKey(svid.privateKey).export({ type: 'spki', format: 'der' })
  if (!leafKey.equals(ownKey)) {
    throw credentialsError('ERR_SPIFFE_CREDENTIALS_KEY_MISMATCH',
      `private key does not match the public key of leaf certificate ${quote(svid.leaf.serialNumber)}`)
  }
  if (opts.now < svid.notBefore) {
    throw credentialsError('ERR_SPIFFE_CREDENTIALS_NOT_YET_VALID',
      `svid ${quote(svid.id.toString())} is not valid before ${new Date(svid.notBefore).toISOString()}`)
  }
  if (opts.now > svid.notAfter) {
    throw credentialsError('ERR_SPIFFE_CREDENTIALS_EXPIRED',
      `svid ${quote(svid.id.toString())} expired at ${new Date(svid.notAfter).toISOString()}`)
  }
  if (!svid.id.equals(opts.identity)) {
    throw credentialsError('ERR_SPIFFE_CREDENTIALS_WRONG_IDENTITY',
      `svid id ${quote(svid.id.toString())} is not the configured identity ${quote(opts.identity.toString())}`)
  }
  if (bundles.get(svid.id.trustDomain) === undefined) {
    throw credentialsError('ERR_SPIFFE_CREDENTIALS_NO_OWN_BUNDLE',
      `no trust bundle for the svid's own trust domain ${quote(svid.id.trustDomain.name)}`)
  }
  verifyX509Svid(svid.chain, bundles, { role: 'client', now: opts.now })
}
