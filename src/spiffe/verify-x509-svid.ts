import type { X509Certificate } from 'node:crypto'
import { SpiffeLbError, quote } from '../internal/errors.ts'
import { buildPath } from './path-builder.ts'
import { checkRevocation, type RevocationByDomain, type RevocationOptions } from './revocation.ts'
import type { X509BundleSource } from './source.ts'
import type { SpiffeId } from './spiffe-id.ts'
import { certLabel } from './cert-info.ts'
import { checkLeafProfile, checkLeafRole, checkLeafValidity, svidIdOf, throwFirst, type RuleSink, type SvidRole } from './svid-leaf.ts'
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
  /** CRLs to check every certificate of the path against (RFC 5280 §6.3); default none. */
  revocation?: RevocationOptions
  /** CRLs per trust domain: the peer's own domain's entry applies (when `revocation` is not given). */
  revocationByDomain?: RevocationByDomain
}

/** A verified X.509-SVID: the peer's SPIFFE ID and the path that proves it. */
export interface VerifiedSvid {
  id: SpiffeId
  /** Leaf, the intermediates used, and the authority of the id's trust domain, in that order. */
  chain: X509Certificate[]
}

/** Every rule an X.509-SVID chain breaks, in the order the verifier checks them. */
export interface SvidAudit {
  /** The leaf's SPIFFE ID, when its URI SAN holds a valid one. */
  id?: SpiffeId
  /** The path leaf → intermediates → authority, when one could be built. */
  path?: X509Certificate[]
  /** Which trust domain's bundle the path was built against, when there was one. */
  bundleTrustDomain?: string
  /** Each broken rule as a coded error; empty means accepted. */
  failures: SpiffeLbError[]
  /** Things worth saying that do not reject (a stale CRL under the `open` policy). */
  warnings: string[]
}

/**
 * Returns the SPIFFE ID of the X.509-SVID `chain` (leaf first, then the intermediates the
 * peer sent) after checking every leaf rule of the X509-SVID spec (§2, §3.1, §4.1, §4.3,
 * §4.4, §5.2) and building an RFC 5280 path (§5.1) to an authority of the bundle of the
 * leaf's OWN trust domain, and only that bundle: an authority of another trust domain never
 * vouches for it, even when that domain is trusted too. Every certificate of the path must
 * be valid at `now`.
 * Throws the FIRST broken rule: `ERR_SPIFFE_SVID_*` (leaf rules), `ERR_SPIFFE_VERIFY_*` (bundle
 * and path rules) or `ERR_SPIFFE_CERT_*` (unparseable extensions), each message naming the id
 * and rule. {@link auditX509Svid} runs the same checks and returns every broken rule.
 * https://github.com/spiffe/spiffe/blob/main/standards/X509-SVID.md#5-validation
 */
export function verifyX509Svid (chain: readonly X509Certificate[], bundles: X509BundleSource, opts: VerifyOptions): VerifiedSvid {
  const audit = runChecks(chain, bundles, opts, throwFirst, () => {})
  // With a throwing sink, reaching here means every check passed, so id and path are set.
  return { id: audit.id as SpiffeId, chain: audit.path as X509Certificate[] }
}

/**
 * Returns every rule `chain` breaks, each with the code and message {@link verifyX509Svid} would
 * throw for it, in the same order (its first failure is the verifier's error). Rules that depend
 * on an earlier result are skipped when it is missing: no ID, no bundle lookup; no bundle, no path.
 * For tools (`verify`, `probe`): the proxy keeps the cheaper first-failure verdict.
 */
export function auditX509Svid (chain: readonly X509Certificate[], bundles: X509BundleSource, opts: VerifyOptions): SvidAudit {
  const failures: SpiffeLbError[] = []
  const warnings: string[] = []
  const audit = runChecks(chain, bundles, opts, (broken) => { failures.push(broken) }, (w) => { warnings.push(w) })
  return { ...audit, failures, warnings }
}

function runChecks (chain: readonly X509Certificate[], bundles: X509BundleSource, opts: VerifyOptions, sink: RuleSink,
  warn: (message: string) => void): Omit<SvidAudit, 'failures' | 'warnings'> {
  const now = opts.now === undefined ? Date.now() : typeof opts.now === 'number' ? opts.now : opts.now.getTime()
  const leaf = chain[0]
  if (leaf === undefined) {
    sink(spiffeError('ERR_SPIFFE_VERIFY_EMPTY_CHAIN', 'certificate chain is empty; the peer presented no x.509-svid'))
    return {}
  }
  if (chain.length > MAX_PRESENTED_CERTIFICATES) {
    sink(spiffeError('ERR_SPIFFE_VERIFY_CHAIN_TOO_LONG',
      `certificate chain has ${chain.length} certificates, more than the ${MAX_PRESENTED_CERTIFICATES} accepted`))
    return {}
  }
  const id = caught(sink, () => svidIdOf(leaf))
  const who = id ?? certLabel(leaf)
  caught(sink, () => { checkLeafProfile(leaf, who, sink) })
  caught(sink, () => { checkLeafRole(leaf, who, opts.role, sink) })
  checkLeafValidity(leaf, who, now, sink)
  if (id === undefined) return {}
  const bundle = bundles.getBundleForTrustDomain(id.trustDomain)
  if (bundle === undefined) {
    sink(spiffeError('ERR_SPIFFE_VERIFY_NO_BUNDLE',
      `no trust bundle for trust domain ${quote(id.trustDomain.name)} of ${quote(id.toString())}; that domain is not trusted`))
    return { id }
  }
  const path = caught(sink, () => buildPath({
    leaf,
    presented: chain.slice(1),
    anchors: bundle.authorities,
    now,
    id: id.toString(),
    trustDomain: id.trustDomain.name
  }))
  const revocation = opts.revocation ?? opts.revocationByDomain?.get(id.trustDomain.name)
  if (path !== undefined && revocation !== undefined) checkRevocation(path, revocation, now, sink, warn)
  return { id, bundleTrustDomain: id.trustDomain.name, ...(path === undefined ? {} : { path }) }
}

/**
 * Runs `fn`; a coded error it throws is handed to `sink` (which rethrows it in first-failure
 * mode) and undefined is returned. Extensions that do not parse throw `ERR_SPIFFE_CERT_*` from
 * inside a check: that is one broken rule too.
 */
function caught<T> (sink: RuleSink, fn: () => T): T | undefined {
  try {
    return fn()
  } catch (err) {
    if (!(err instanceof SpiffeLbError) || sink === throwFirst) throw err
    sink(err)
    return undefined
  }
}
