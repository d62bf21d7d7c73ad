import type { X509Certificate } from 'node:crypto'
import { quote } from '../internal/errors.ts'
import { buildPath } from './path-builder.ts'
import type { X509BundleSource } from './source.ts'
import type { SpiffeId } from './spiffe-id.ts'
import { checkLeafProfile, checkLeafRole, checkLeafValidity, svidIdOf, type SvidRole } from './svid-leaf.ts'
import { spiffeError } from './errors.ts'

/** Most certificates accepted from a peer (leaf included): more is a misconfiguration or an attack. */
export const MAX_PRESENTED_CERTIFICATES = 10

/** How to verify a peer's X.509-SVID. */
export interface VerifyOptions {
  /**
   * The role of the PEER whose chain is verified: `server` when we are the client checking a
   * backend (its EKU must allow serverAuth), `client` when we are a server checking a caller.
   */
  role: SvidRole
  /** Time of the check, ms since the epoch or a Date. Default `Date.now()`. */
  now?: number | Date
}

/** A verified X.509-SVID: the peer's SPIFFE ID and the path that proves it. */
export interface VerifiedSvid {
  id: SpiffeId
  /** Leaf, the intermediates used, and the authority of the id's trust domain, in that order. */
  chain: X509Certificate[]
}

/**
 * Returns the SPIFFE ID of the X.509-SVID `chain` (leaf first, then the intermediates the
 * peer sent) after checking every leaf rule of the X509-SVID spec (§2, §3.1, §4.1, §4.3,
 * §4.4, §5.2) and building an RFC 5280 path (§5.1) to an authority of the bundle of the
 * leaf's OWN trust domain, and only that bundle: an authority of another trust domain never
 * vouches for it, even when that domain is trusted too. Every certificate of the path must
 * be valid at `now`.
 * Throws `ERR_SPIFFE_SVID_*` (leaf rules), `ERR_SPIFFE_VERIFY_*` (bundle and path rules) or
 * `ERR_SPIFFE_CERT_*` (unparseable extensions), each message naming the id and rule.
 * https://github.com/spiffe/spiffe/blob/main/standards/X509-SVID.md#5-validation
 */
export function verifyX509Svid (chain: readonly X509Certificate[], bundles: X509BundleSource, opts: VerifyOptions): VerifiedSvid {
  const now = opts.now === undefined ? Date.now() : typeof opts.now === 'number' ? opts.now : opts.now.getTime()
  const leaf = chain[0]
  if (leaf === undefined) throw spiffeError('ERR_SPIFFE_VERIFY_EMPTY_CHAIN', 'certificate chain is empty; the peer presented no x.509-svid')
  if (chain.length > MAX_PRESENTED_CERTIFICATES) {
    throw spiffeError('ERR_SPIFFE_VERIFY_CHAIN_TOO_LONG',
      `certificate chain has ${chain.length} certificates, more than the ${MAX_PRESENTED_CERTIFICATES} accepted`)
  }
  const id = svidIdOf(leaf)
  checkLeafProfile(leaf, id)
  checkLeafRole(leaf, id, opts.role)
  checkLeafValidity(leaf, id, now)
  const bundle = bundles.getBundleForTrustDomain(id.trustDomain)
  if (bundle === undefined) {
    throw spiffeError('ERR_SPIFFE_VERIFY_NO_BUNDLE',
      `no trust bundle for trust domain ${quote(id.trustDomain.name)} of ${quote(id.toString())}; that domain is not trusted`)
  }
  const path = buildPath({
    leaf,
    presented: chain.slice(1),
    anchors: bundle.authorities,
    now,
    id: id.toString(),
    trustDomain: id.trustDomain.name
  })
  return { id, chain: path }
}
