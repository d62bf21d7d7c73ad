/**
 * The rules a parsed request head must pass before the lean frontend routes it, on top of
 * llhttp's own: node:http's server rules (an HTTP/1.1 request names its Host, an `Expect`
 * other than `100-continue` gets 417, CONNECT is not served) and a few stricter ones a proxy
 * wants (one Host only, a target in origin, absolute or asterisk form, HTTP/1.0 or 1.1, a
 * bounded header count). test/http1-differential.test.ts lists where this is stricter than
 * node:http.
 */
import type { MessageHead } from './http1/http1-parser.ts'

/** node:http keeps at most this many header lines and silently drops the rest; we refuse. */
export const MAX_REQUEST_HEADERS = 1000

/** The verdict on one request head. */
export type HeadVerdict =
  | { ok: true, /** the client waits for `100 Continue` before sending its body */ expectContinue: boolean }
  | { ok: false, status: number, reason: string }

/** node:http's own test for a `100-continue` expectation (`_http_common.continueExpression`). */
const CONTINUE = /(?:^|\W)100-continue(?:$|\W)/i

/** Returns whether the lean frontend may serve `head`, and if not the status and a one-line reason. */
export function checkRequestHead (head: MessageHead): HeadVerdict {
  const { versionMajor, versionMinor, method, url, rawHeaders } = head
  if (versionMajor !== 1 || (versionMinor !== 0 && versionMinor !== 1)) {
    return { ok: false, status: 505, reason: `http version ${versionMajor}.${versionMinor} is not supported on this path` }
  }
  if (method === 'CONNECT') return { ok: false, status: 405, reason: 'method CONNECT is not supported' }
  if (rawHeaders.length > MAX_REQUEST_HEADERS * 2) {
    return { ok: false, status: 431, reason: `more than ${MAX_REQUEST_HEADERS} request header fields` }
  }
  if (!(url.startsWith('/') || /^https?:\/\/[^/?#]/i.test(url) || (url === '*' && method === 'OPTIONS'))) {
    return { ok: false, status: 400, reason: 'request target is not in origin, absolute or asterisk form' }
  }
  let hosts = 0
  let expect: string | undefined
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i] ?? ''
    if (name.length === 4 && name.toLowerCase() === 'host') hosts++
    else if (name.length === 6 && name.toLowerCase() === 'expect') expect = expect === undefined ? rawHeaders[i + 1] : `${expect}, ${rawHeaders[i + 1] ?? ''}`
  }
  if (hosts > 1) return { ok: false, status: 400, reason: 'more than one host header' }
  if (versionMinor === 1) {
    // node:http skips this rule for upgrade requests; the proxy applies it to every request.
    if (hosts === 0) return { ok: false, status: 400, reason: 'http/1.1 request without host header' }
    if (expect !== undefined) {
      if (!CONTINUE.test(expect)) return { ok: false, status: 417, reason: 'only the 100-continue expectation is supported' }
      return { ok: true, expectContinue: true }
    }
  }
  return { ok: true, expectContinue: false }
}
