import type { X509Certificate } from 'node:crypto'
import { isSpiffeLbError, quote, type SpiffeLbError } from '../internal/errors.ts'
import { OID, certInfo, certLabel } from './cert-info.ts'
import { SpiffeId } from './spiffe-id.ts'
import { spiffeError, type SpiffeErrorCode } from './errors.ts'

/**
 * The leaf rules of the X.509-SVID spec, checked on the first certificate of a chain.
 * https://github.com/spiffe/spiffe/blob/main/standards/X509-SVID.md
 */

/** Which side the certificate's owner plays: a `server` must allow serverAuth, a `client` clientAuth. */
export type SvidRole = 'server' | 'client'

function fail (code: SpiffeErrorCode, message: string): never {
  throw spiffeError(code, message)
}

/**
 * Receives each broken rule. The default throws the first one (the proxy's verdict needs only
 * one); an audit collects every one (`verify`, `probe`), so both run the same checks.
 */
export type RuleSink = (broken: SpiffeLbError) => void

/** The default {@link RuleSink}: throws the first broken rule. */
export const throwFirst: RuleSink = (broken) => { throw broken }

/** Who a leaf is, for messages: its SPIFFE ID, or its subject when it has no usable ID. */
function whoOf (id: SpiffeId | string): string {
  return quote(id.toString())
}

/**
 * Returns the SPIFFE ID of an X.509-SVID leaf: the one URI SAN (§2), a valid SPIFFE ID with
 * a non-root path (§3.1, §5.2). Throws `ERR_SPIFFE_SVID_NO_URI_SAN`,
 * `ERR_SPIFFE_SVID_MULTIPLE_URI_SANS`, `ERR_SPIFFE_SVID_URI_NOT_SPIFFE`,
 * `ERR_SPIFFE_SVID_INVALID_SPIFFE_ID` (the ID rule broken is the `cause`) or
 * `ERR_SPIFFE_SVID_ID_HAS_NO_PATH`.
 */
export function svidIdOf (leaf: X509Certificate): SpiffeId {
  const { uris } = certInfo(leaf).san
  const subject = quote(certLabel(leaf))
  if (uris.length === 0) fail('ERR_SPIFFE_SVID_NO_URI_SAN', `x.509-svid ${subject} has no uri san (exactly one is required)`)
  if (uris.length > 1) {
    fail('ERR_SPIFFE_SVID_MULTIPLE_URI_SANS',
      `x.509-svid ${subject} has ${uris.length} uri sans (${uris.map((u) => quote(u, 60)).join(', ')}); exactly one is required`)
  }
  const uri = uris[0] as string
  if (uri.slice(0, 7).toLowerCase() !== 'spiffe:') {
    fail('ERR_SPIFFE_SVID_URI_NOT_SPIFFE', `x.509-svid uri san ${quote(uri)} is not a spiffe id (scheme must be "spiffe")`)
  }
  let id: SpiffeId
  try {
    id = SpiffeId.fromString(uri)
  } catch (err) {
    if (!isSpiffeLbError(err)) throw err
    throw spiffeError('ERR_SPIFFE_SVID_INVALID_SPIFFE_ID',
      `x.509-svid uri san ${quote(uri)} is not a valid spiffe id: ${err.message}`, { cause: err })
  }
  if (id.path === '') {
    fail('ERR_SPIFFE_SVID_ID_HAS_NO_PATH',
      `x.509-svid id ${quote(uri)} has no path; a leaf must name a workload, not the trust domain`)
  }
  return id
}

/**
 * Checks the static leaf profile of `leaf`, whose id is `id` (role and time are separate):
 * - SAN critical when the subject is empty (§3.1, RFC 5280 §4.1.2.6);
 * - basicConstraints cA false (§4.1, §5.2);
 * - keyUsage present and critical with digitalSignature, without keyCertSign or cRLSign
 *   (§4.3, §5.2). §4.3 says "The key usage extension MUST be set on all SVIDs, and MUST be
 *   marked critical" and "Leaf SVIDs MUST set digitalSignature", so a leaf without the
 *   extension is rejected rather than read as "any usage" the way RFC 5280 alone would;
 * - no critical extension we do not understand (RFC 5280 §6.1.4(o)).
 * Each broken rule goes to `sink` (default: thrown); `id` may be the subject when the leaf has no ID.
 */
export function checkLeafProfile (leaf: X509Certificate, id: SpiffeId | string, sink: RuleSink = throwFirst): void {
  const info = certInfo(leaf)
  const who = whoOf(id)
  const broken = (code: SpiffeErrorCode, message: string): void => { sink(spiffeError(code, message)) }
  if (info.subjectEmpty && !info.san.critical) {
    broken('ERR_SPIFFE_SVID_SAN_NOT_CRITICAL', `x.509-svid ${who} has an empty subject, so its uri san must be critical`)
  }
  if (info.basicConstraints.ca) {
    broken('ERR_SPIFFE_SVID_IS_CA', `x.509-svid ${who} is a ca certificate (basicConstraints ca true); a leaf must have ca false`)
  }
  const ku = info.keyUsage
  if (!ku.present) {
    broken('ERR_SPIFFE_SVID_NO_KEY_USAGE', `x.509-svid ${who} has no key usage extension (it must be set, with digitalSignature)`)
  } else {
    if (!ku.critical) broken('ERR_SPIFFE_SVID_KEY_USAGE_NOT_CRITICAL', `x.509-svid ${who} has a key usage extension that is not critical`)
    if (ku.keyCertSign) broken('ERR_SPIFFE_SVID_KEY_CERT_SIGN', `x.509-svid ${who} sets keyCertSign; a leaf must not sign certificates`)
    if (ku.cRLSign) broken('ERR_SPIFFE_SVID_CRL_SIGN', `x.509-svid ${who} sets cRLSign; a leaf must not sign crls`)
    if (!ku.digitalSignature) broken('ERR_SPIFFE_SVID_NO_DIGITAL_SIGNATURE', `x.509-svid ${who} does not set digitalSignature in key usage`)
  }
  for (const unknown of info.unhandledCriticalExtensions) {
    broken('ERR_SPIFFE_SVID_UNHANDLED_CRITICAL_EXTENSION', `x.509-svid ${who} has critical extension ${quote(unknown)} that is not understood`)
  }
}

/**
 * Checks that an extended key usage, when present, allows `role` (§4.4; RFC 5280 §4.2.1.12:
 * anyExtendedKeyUsage allows every purpose). Without the extension every role is allowed.
 */
export function checkLeafRole (leaf: X509Certificate, id: SpiffeId | string, role: SvidRole, sink: RuleSink = throwFirst): void {
  const eku = certInfo(leaf).extKeyUsage
  if (eku === undefined || eku.includes(OID.anyExtendedKeyUsage)) return
  if (role === 'server' && !eku.includes(OID.serverAuth)) {
    sink(spiffeError('ERR_SPIFFE_SVID_EKU_NO_SERVER_AUTH', `x.509-svid ${whoOf(id)} is used by a server but its extended key usage lacks serverAuth`))
  }
  if (role === 'client' && !eku.includes(OID.clientAuth)) {
    sink(spiffeError('ERR_SPIFFE_SVID_EKU_NO_CLIENT_AUTH', `x.509-svid ${whoOf(id)} is used by a client but its extended key usage lacks clientAuth`))
  }
}

/**
 * Returns undefined when `cert` is valid at `now` (bounds inclusive, RFC 5280 §4.1.2.5),
 * else `'expired'` or `'not-yet-valid'`.
 */
export function validityAt (cert: X509Certificate, now: number): 'expired' | 'not-yet-valid' | undefined {
  if (now < cert.validFromDate.getTime()) return 'not-yet-valid'
  if (now > cert.validToDate.getTime()) return 'expired'
  return undefined
}

/** Checks the leaf's own validity period. Throws `ERR_SPIFFE_SVID_EXPIRED` / `ERR_SPIFFE_SVID_NOT_YET_VALID`. */
export function checkLeafValidity (leaf: X509Certificate, id: SpiffeId | string, now: number, sink: RuleSink = throwFirst): void {
  const state = validityAt(leaf, now)
  if (state === undefined) return
  const when = new Date(now).toISOString()
  if (state === 'expired') {
    sink(spiffeError('ERR_SPIFFE_SVID_EXPIRED', `x.509-svid ${whoOf(id)} expired at ${leaf.validToDate.toISOString()} (now ${when})`))
  } else {
    sink(spiffeError('ERR_SPIFFE_SVID_NOT_YET_VALID', `x.509-svid ${whoOf(id)} is not valid before ${leaf.validFromDate.toISOString()} (now ${when})`))
  }
}
