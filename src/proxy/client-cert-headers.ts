/**
 * The backend service's `customRequestHeaders` with the cloud's mTLS variables: what the inbound
 * listener learned about the client certificate, told to the application. A client can never
 * pose as the proxy: every incoming header with a configured name is removed first, and on an
 * inbound listener so is every `X-Client-Cert-*` header. Value formats are the cloud's: booleans
 * as `true`/`false`, the fingerprint and SAN lists Base64, times RFC 3339, the leaf and the chain
 * RFC 9440 (`:BASE64-DER:`, comma-separated), only for a verified certificate.
 */
import { createHash, type X509Certificate } from 'node:crypto'
import type { ClientCertVariable } from '../enums.ts'
import type { ClientVerdict } from '../tls/client-verifier.ts'
import type { CustomHeader } from './types.ts'

/** Headers a client may never send through an inbound listener (prefix, lowercase). */
const CLIENT_CERT_PREFIX = 'x-client-cert-'

/**
 * Returns `headers` (a flat `[name, value, …]` list) without the client's headers of the names
 * `custom` sets (and, when `verdict` comes from an inbound listener, any `X-Client-Cert-*`),
 * followed by `custom` rendered for `verdict` (no verdict: no client certificate).
 */
export function withCustomHeaders (headers: string[], custom: readonly CustomHeader[] | undefined, verdict: ClientVerdict | undefined): string[] {
  if ((custom === undefined || custom.length === 0) && verdict === undefined) return headers
  const names = new Set(custom?.map((h) => h.name))
  const out: string[] = []
  for (let i = 0; i + 1 < headers.length; i += 2) {
    const name = (headers[i] ?? '').toLowerCase()
    if (names.has(name) || (verdict !== undefined && name.startsWith(CLIENT_CERT_PREFIX))) continue
    out.push(headers[i] ?? '', headers[i + 1] ?? '')
  }
  for (const h of custom ?? []) {
    out.push(h.name, h.parts.map((p) => 'text' in p ? p.text : variableValue(p.variable, verdict)).join(''))
  }
  return out
}

/** Returns the value of one mTLS variable for `verdict`. */
export function variableValue (variable: ClientCertVariable, verdict: ClientVerdict | undefined): string {
  const leaf = verdict?.chain[0]
  switch (variable) {
    case 'client_cert_present': return String(verdict?.present ?? false)
    case 'client_cert_chain_verified': return String(verdict?.verified ?? false)
    case 'client_cert_error': return verdict === undefined ? 'client_cert_not_provided' : verdict.error
    case 'client_cert_error_code': return verdict?.code ?? ''
    case 'client_cert_sha256_fingerprint': return leaf === undefined ? '' : createHash('sha256').update(leaf.raw).digest('base64')
    case 'client_cert_serial_number': return leaf?.serialNumber ?? ''
    case 'client_cert_spiffe_id': return verdict?.spiffeId ?? ''
    case 'client_cert_uri_sans': return (verdict?.uriSans ?? []).map(base64).join(',')
    case 'client_cert_dnsname_sans': return (verdict?.dnsNames ?? []).map(base64).join(',')
    case 'client_cert_valid_not_before': return leaf === undefined ? '' : rfc3339(leaf.validFromDate)
    case 'client_cert_valid_not_after': return leaf === undefined ? '' : rfc3339(leaf.validToDate)
    case 'client_cert_leaf': return leaf === undefined || verdict?.verified !== true ? '' : rfc9440(leaf)
    case 'client_cert_chain': return verdict?.verified !== true ? '' : verdict.chain.slice(1).map(rfc9440).join(',')
  }
}

function base64 (text: string): string {
  return Buffer.from(text).toString('base64')
}

/** `2022-07-01T18:05:09+00:00`, the cloud's example form. */
function rfc3339 (date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, '+00:00')
}

/** RFC 9440 §2.1: the DER, Base64, between colons. */
function rfc9440 (cert: X509Certificate): string {
  return `:${cert.raw.toString('base64')}:`
}
