import https from 'node:https'
import type { X509Svid } from '../../spiffe/x509-svid.ts'
import { TLS_ERROR } from '../../tls/errors.ts'

/** What one request through an inbound listener got: the status, or why there was none. */
export interface ProbeRequestResult {
  path: string
  /** HTTP status the listener answered; undefined when it closed the connection first. */
  status?: number
  /** The first line of the answer's body (a refusal names its code there). */
  body?: string
  /** Why no answer came: the listener refused our certificate after the handshake, or the error code. */
  error?: string
}

/**
 * Sends `GET path` to an inbound listener as a caller would, presenting `svid` (the listener's
 * own certificate was judged by the probe already, so it is not judged again here). Resolves
 * with the status and the first line of the body, or with the error when the listener closed
 * the connection instead of answering (what `REJECT_INVALID` does to a refused certificate).
 */
export async function probeRequest (host: string, port: number, svid: X509Svid, path: string, timeoutMs: number, servername?: string): Promise<ProbeRequestResult> {
  return await new Promise((resolve) => {
    const req = https.request({
      host, port, path, method: 'GET', agent: false, rejectUnauthorized: false, timeout: timeoutMs,
      cert: svid.chainPem(), key: svid.privateKeyPem(), ...(servername === undefined ? {} : { servername })
    }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (d: string) => { if (body.length < 4096) body += d })
      res.on('end', () => { resolve({ path, status: res.statusCode ?? 0, body: body.split('\n', 1)[0] ?? '' }) })
      res.on('error', (err: Error & { code?: string }) => { resolve({ path, error: err.code ?? err.message }) })
    })
    req.on('timeout', () => { req.destroy(new Error(`no answer within ${timeoutMs} ms`)) })
    req.on('error', (err: Error & { code?: string }) => {
      resolve({ path, error: err.code === 'ECONNRESET' || err.message === 'socket hang up' ? `${TLS_ERROR.REFUSED_BY_PEER}: the listener closed the connection instead of answering (our certificate was refused)` : err.code ?? err.message })
    })
    req.end()
  })
}
