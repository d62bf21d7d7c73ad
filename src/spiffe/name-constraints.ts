import type { X509Certificate } from 'node:crypto'
import { quote } from '../internal/errors.ts'
import { certInfo } from './cert-info.ts'
import type { GeneralName } from './general-name.ts'

/**
 * RFC 5280 §4.2.1.10 name constraints, for the name forms X.509-SVIDs use: URI (applied to
 * the URI's host, i.e. the SPIFFE trust domain; a leading "." means "any subdomain") and
 * DNS (the name or any name with more labels on the left). X509-SVID §4.2 lets signing
 * certificates use URI name constraints. Other forms (directoryName, iPAddress, rfc822Name…)
 * are not implemented, and a constraint we cannot evaluate must not be ignored, so a CA
 * carrying one is refused.
 */

/** The outcome of checking one CA's constraints against the certificates below it. */
export type ConstraintVerdict =
  | { ok: true }
  | { ok: false, reason: 'unsupported' | 'violated', detail: string }

const SUPPORTED = new Set(['uri', 'dns'])

function uriHost (uri: string): string | undefined {
  const m = /^[a-z][a-z0-9+.-]*:\/\/(?:[^@/?#]*@)?([^:/?#]*)/i.exec(uri)
  return m?.[1] === undefined || m[1] === '' ? undefined : m[1].toLowerCase()
}

function dnsMatches (name: string, constraint: string): boolean {
  const n = name.toLowerCase()
  const c = constraint.toLowerCase()
  if (c === '') return true
  if (c.startsWith('.')) return n.endsWith(c)
  return n === c || n.endsWith(`.${c}`)
}

function uriMatches (uri: string, constraint: string): boolean {
  const host = uriHost(uri)
  if (host === undefined) return false
  const c = constraint.toLowerCase()
  return c.startsWith('.') ? host.endsWith(c) : host === c
}

function matches (name: GeneralName, constraint: GeneralName): boolean {
  return name.kind === 'uri' ? uriMatches(name.value, constraint.value) : dnsMatches(name.value, constraint.value)
}

/**
 * Returns whether the URI and DNS SANs of every certificate in `below` satisfy the name
 * constraints of `ca` (which may have none).
 */
export function checkNameConstraints (ca: X509Certificate, below: readonly X509Certificate[]): ConstraintVerdict {
  const nc = certInfo(ca).nameConstraints
  if (!nc.present) return { ok: true }
  const odd = [...nc.permitted, ...nc.excluded].find((c) => !SUPPORTED.has(c.kind))
  if (odd !== undefined) {
    return { ok: false, reason: 'unsupported', detail: `${odd.kind} name constraints are not supported` }
  }
  for (const cert of below) {
    for (const name of certInfo(cert).san.names) {
      if (!SUPPORTED.has(name.kind)) continue
      const permitted = nc.permitted.filter((c) => c.kind === name.kind)
      if (permitted.length > 0 && !permitted.some((c) => matches(name, c))) {
        return { ok: false, reason: 'violated', detail: `${name.kind} ${quote(name.value)} is outside the permitted subtrees` }
      }
      const excluded = nc.excluded.find((c) => c.kind === name.kind && matches(name, c))
      if (excluded !== undefined) {
        return { ok: false, reason: 'violated', detail: `${name.kind} ${quote(name.value)} is in the excluded subtree ${quote(excluded.value)}` }
      }
    }
  }
  return { ok: true }
}
