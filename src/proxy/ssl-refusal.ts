import { quote } from '../internal/errors.ts'
import { fieldValue } from './headers.ts'
import { TLS_ERROR, tlsError } from '../tls/errors.ts'

// nginx with `ssl_verify_client on` finishes a TLS 1.3 handshake before it has judged the
// client certificate, then answers the request with one of these small 400 pages when it
// refused it. Forwarded as such, every client would get nginx's page as the application's answer.
const PAGE = /<title>\s*400 (The SSL certificate error|No required SSL certificate was sent)\s*<\/title>/i
const MAX_PAGE_BYTES = 2048

/**
 * Returns true when a response head (its fields as a flat `[name, value, …]` list) may be a
 * backend's refusal of the proxy's SVID after the handshake (a small 400 html page): its body
 * must then be read before anything is forwarded.
 */
export function mayBeSvidRefusal (statusCode: number, fields: readonly string[]): boolean {
  if (statusCode !== 400) return false
  const type = fieldValue(fields, 'content-type')
  const length = Number(fieldValue(fields, 'content-length'))
  return type !== undefined && type.startsWith('text/html') && Number.isFinite(length) && length <= MAX_PAGE_BYTES
}

/**
 * Returns the svid-refused-after-handshake error naming the page when `body` is the
 * backend's client-certificate error page, else undefined (an application's own 400).
 */
export function svidRefusal (endpoint: string, body: string): Error | undefined {
  const page = PAGE.exec(body)?.[1]
  if (page === undefined) return undefined
  return tlsError(TLS_ERROR.SVID_REFUSED_AFTER_HANDSHAKE,
    `backend ${endpoint} refused our svid after the handshake: it answered 400 ${quote(page)}; give it the bundle of the proxy's trust domain`,
    { at: endpoint })
}
