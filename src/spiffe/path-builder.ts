import type { X509Certificate } from 'node:crypto'
import { SpiffeLbError, quote } from '../internal/errors.ts'
import { certInfo, certLabel } from './cert-info.ts'
import { checkNameConstraints } from './name-constraints.ts'
import { validityAt } from './svid-leaf.ts'
import { spiffeError, type SpiffeErrorCode } from './errors.ts'

/** Most intermediates a path may hold between leaf and anchor. */
export const MAX_INTERMEDIATES = 8
/** Most issuer candidates tried per verification: bounds the work a hostile chain can cause. */
export const MAX_CANDIDATES = 64

/** What a path is built for. `anchors` are the authorities of the leaf's own trust domain only. */
export interface PathRequest {
  leaf: X509Certificate
  /** The certificates the peer sent after its leaf, in any order. */
  presented: readonly X509Certificate[]
  anchors: readonly X509Certificate[]
  now: number
  /** The leaf's SPIFFE ID and trust domain, for messages. */
  id: string
  trustDomain: string
}

function name (cert: X509Certificate): string {
  return quote(certLabel(cert))
}

/**
 * Returns the path leaf → intermediates → anchor, building it from the presented
 * certificates to one of `anchors` (RFC 5280 §6.1 semantics): at each step the issuer
 * candidates are the certificates whose subject matches the child's issuer, anchors first;
 * a candidate is taken only if it is a valid CA (cA true; keyCertSign, required on
 * intermediates, X509-SVID §4.3), within its validity, within every pathLenConstraint above
 * the child, within its name constraints, and its public key verifies the child's signature
 * (a name match alone proves nothing: a rogue root can copy a subject). No certificate is
 * used twice. When no path exists, the most specific failure met on the way is thrown
 * (`ERR_SPIFFE_VERIFY_*`), else `ERR_SPIFFE_VERIFY_NO_PATH`.
 */
export function buildPath (req: PathRequest): X509Certificate[] {
  let budget = MAX_CANDIDATES
  let failure: SpiffeLbError | undefined
  let deadEnd: X509Certificate | undefined
  const signatures = new Map<X509Certificate, Map<X509Certificate, boolean>>()

  const reject = (code: SpiffeErrorCode, message: string): false => {
    failure ??= spiffeError(code, message)
    return false
  }

  const signed = (child: X509Certificate, issuer: X509Certificate): boolean => {
    let byIssuer = signatures.get(child)
    if (byIssuer === undefined) signatures.set(child, byIssuer = new Map())
    let ok = byIssuer.get(issuer)
    if (ok === undefined) {
      try { ok = child.verify(issuer.publicKey) } catch { ok = false }
      byIssuer.set(issuer, ok)
    }
    return ok
  }

  const accept = (path: readonly X509Certificate[], issuer: X509Certificate, anchor: boolean): boolean => {
    if (--budget < 0) {
      throw spiffeError('ERR_SPIFFE_VERIFY_TOO_MANY_CANDIDATES',
        `certificate chain for ${quote(req.id)} needs more than ${MAX_CANDIDATES} issuer checks; refusing to search further`)
    }
    const child = path[path.length - 1] as X509Certificate
    const info = certInfo(issuer)
    const role = anchor ? 'authority' : 'intermediate'
    if (!info.basicConstraints.ca) {
      return reject('ERR_SPIFFE_VERIFY_ISSUER_NOT_CA', `${role} ${name(issuer)} in the chain of ${quote(req.id)} is not a ca (basicConstraints ca is not true)`)
    }
    if ((!anchor && !info.keyUsage.present) || (info.keyUsage.present && !info.keyUsage.keyCertSign)) {
      return reject('ERR_SPIFFE_VERIFY_ISSUER_NO_KEY_CERT_SIGN', `${role} ${name(issuer)} in the chain of ${quote(req.id)} does not set keyCertSign in key usage`)
    }
    const state = validityAt(issuer, req.now)
    if (state === 'expired') {
      return reject('ERR_SPIFFE_VERIFY_CERT_EXPIRED', `${role} ${name(issuer)} in the chain of ${quote(req.id)} expired at ${issuer.validToDate.toISOString()}`)
    }
    if (state === 'not-yet-valid') {
      return reject('ERR_SPIFFE_VERIFY_CERT_NOT_YET_VALID', `${role} ${name(issuer)} in the chain of ${quote(req.id)} is not valid before ${issuer.validFromDate.toISOString()}`)
    }
    const unknown = info.unhandledCriticalExtensions[0]
    if (unknown !== undefined) {
      return reject('ERR_SPIFFE_VERIFY_UNHANDLED_CRITICAL_EXTENSION', `${role} ${name(issuer)} has critical extension ${quote(unknown)} that is not understood`)
    }
    // RFC 5280 §4.2.1.9: pathLen counts the non-self-issued intermediates below the CA.
    const below = path.slice(1).filter((c) => !certInfo(c).selfIssued).length
    const pathLen = info.basicConstraints.pathLen
    if (pathLen !== undefined && below > pathLen) {
      return reject('ERR_SPIFFE_VERIFY_PATH_LEN_EXCEEDED',
        `${role} ${name(issuer)} allows ${pathLen} intermediate(s) below it (pathLen), the chain of ${quote(req.id)} has ${below}`)
    }
    if (!signed(child, issuer)) {
      return reject('ERR_SPIFFE_VERIFY_BAD_SIGNATURE', `signature of ${name(child)} in the chain of ${quote(req.id)} does not verify with the key of ${role} ${name(issuer)}`)
    }
    if (!child.checkIssued(issuer)) {
      return reject('ERR_SPIFFE_VERIFY_ISSUER_MISMATCH', `${name(child)} in the chain of ${quote(req.id)} does not name ${role} ${name(issuer)} as its issuer (name or key identifier differs)`)
    }
    const nc = checkNameConstraints(issuer, path)
    if (!nc.ok) {
      return reject(nc.reason === 'unsupported' ? 'ERR_SPIFFE_VERIFY_NAME_CONSTRAINTS_UNSUPPORTED' : 'ERR_SPIFFE_VERIFY_NAME_CONSTRAINTS_VIOLATED',
        `${role} ${name(issuer)} name constraints reject the chain of ${quote(req.id)}: ${nc.detail}`)
    }
    return true
  }

  const candidates = (child: X509Certificate, pool: readonly X509Certificate[]): X509Certificate[] => {
    const issuerDer = certInfo(child).issuerDer
    return pool.filter((c) => certInfo(c).subjectDer.equals(issuerDer) || child.checkIssued(c))
  }

  const extend = (path: readonly X509Certificate[]): X509Certificate[] | undefined => {
    const child = path[path.length - 1] as X509Certificate
    const anchors = candidates(child, req.anchors)
    for (const anchor of anchors) {
      if (accept(path, anchor, true)) return [...path, anchor]
    }
    const intermediates = candidates(child, req.presented).filter((c) => !path.some((p) => p.raw.equals(c.raw)))
    if (anchors.length === 0 && intermediates.length === 0) deadEnd ??= child
    if (path.length - 1 >= MAX_INTERMEDIATES) {
      reject('ERR_SPIFFE_VERIFY_CHAIN_TOO_LONG', `certificate chain for ${quote(req.id)} needs more than ${MAX_INTERMEDIATES} intermediates`)
      return undefined
    }
    for (const intermediate of intermediates) {
      if (!accept(path, intermediate, false)) continue
      const found = extend([...path, intermediate])
      if (found !== undefined) return found
    }
    return undefined
  }

  const path = extend([req.leaf])
  if (path !== undefined) return path
  if (failure !== undefined) throw failure
  const hint = deadEnd === undefined ? '' : ` (no presented certificate or authority is the issuer ${quote((deadEnd.issuer as string | undefined ?? '').replaceAll('\n', ', '))} of ${name(deadEnd)})`
  throw spiffeError('ERR_SPIFFE_VERIFY_NO_PATH',
    `certificate chain for ${quote(req.id)} does not chain to any authority of trust domain ${quote(req.trustDomain)}${hint}`)
}
