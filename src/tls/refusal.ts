import type { TLSSocket } from 'node:tls'
import { quote } from '../internal/errors.ts'
import { tlsError } from './errors.ts'

/** OpenSSL reports an alert from the peer as `ERR_SSL_…_ALERT_…` (e.g. unknown ca, certificate required). */
function isAlert (err: unknown): err is Error & { code: string } {
  const code = (err as { code?: unknown } | null)?.code
  return typeof code === 'string' && /^ERR_SSL_.*ALERT/.test(code)
}

/** Returns OpenSSL's alert text (`tlsv1 alert unknown ca`) from its long message. */
function alertText (err: Error): string {
  return /alert [a-z ]+/i.exec(err.message)?.[0].replace(/^/, 'tls ') ?? err.message.replace(/\s+/g, ' ')
}

/**
 * Makes a verified backend socket say why it dies when the backend refuses the proxy's SVID.
 * In TLS 1.3 the client finishes its handshake before the server has judged the client
 * certificate, so a refusal shows only afterwards: as an alert (OpenSSL, nginx, Go: `unknown
 * ca`, `certificate required`) or as a bare close (Node). HTTP clients then report "other side
 * closed". Until the backend has sent its first byte, an alert or a close destroys the socket
 * with `ERR_SPIFFE_TLS_REFUSED_BY_PEER` naming the alert and the SVID, which the proxy's 502 shows.
 */
export function explainRefusal (socket: TLSSocket, endpoint: string, svid: string): void {
  // HTTP/2 reads the socket's handle directly, so "answered" could not be seen: leave it be.
  if (socket.alpnProtocol === 'h2') return
  // `readableDidRead` turns true once the stream handed out its first chunk, by `read()` (undici)
  // or by 'data': the stream keeps that fact itself, so nothing wraps the per-read path.
  const refuse = (message: string, cause?: Error): void => {
    if (socket.readableDidRead || socket.destroyed) return
    socket.destroy(tlsError('ERR_SPIFFE_TLS_REFUSED_BY_PEER', message, { at: endpoint, ...(cause === undefined ? {} : { cause }) }))
  }
  socket.prependListener('error', (err: Error) => {
    if (isAlert(err)) {
      refuse(`backend ${endpoint} refused the proxy's svid ${quote(svid)}: ${alertText(err)} (${err.code}); check that the backend trusts the bundle of the proxy's trust domain and allows its id`, err)
    }
  })
  socket.prependOnceListener('end', () => {
    refuse(`backend ${endpoint} closed the connection after the tls handshake without a response: it most likely refused the proxy's svid ${quote(svid)} (its trust bundle for the proxy's trust domain or its allow-list)`)
  })
}
