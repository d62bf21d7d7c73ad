/**
 * A cached TLS client session without the backend's certificate. OpenSSL keeps the peer
 * certificate in every session (`SSL_SESSION`'s `peer`, `[3]` in its ASN.1 form, ssl/ssl_asn1.c
 * of OpenSSL), and `setSession` decodes it again on every resumption: with Node 24's OpenSSL
 * 3.5 that was 55–95 µs of CPU per resumed backend connection here, against 12–16 µs for the
 * same session without it (bench/README.md). Nothing needs it: OpenSSL's verification is off,
 * Node reports no peer certificate on a resumed client connection anyway, and the connector
 * re-verifies the chain it recorded when the session was established (backend-connector.ts).
 * The resumption secret, ticket, cipher, ALPN and group stay as they are, so the backend
 * resumes exactly as before.
 *
 * Node 24 wraps a client session in a prefix naming the server it was made for
 * (`\0nodejs:tls:session:1\0`, a 2-byte length, the name); the wrapper is kept. A session in
 * a form this does not know is returned unchanged, so resumption only costs what it did;
 * `session-peer.test.ts` then fails, naming the change.
 */
import { children, isContext, isUniversal, readOne, Tag, type DerElement } from '../spiffe/der.ts'

/** The prefix Node 24 puts before a client session's DER (node's lib/internal/tls/wrap.js). */
export const NODE_SESSION_PREFIX = Buffer.from('\0nodejs:tls:session:1\0', 'latin1')

/** `SSL_SESSION_ASN1`'s peer certificate: `[3] EXPLICIT X509 OPTIONAL`. */
const PEER_FIELD = 3

/**
 * Returns `session` (a Buffer from a TLS socket's `'session'` event) without the peer
 * certificate, or `session` itself when it has none or is not in a form known here.
 */
export function withoutPeerCertificate (session: Buffer): Buffer {
  let wrapper = session.subarray(0, 0)
  let der = session
  if (session.length >= NODE_SESSION_PREFIX.length + 2 && session.subarray(0, NODE_SESSION_PREFIX.length).equals(NODE_SESSION_PREFIX)) {
    const end = NODE_SESSION_PREFIX.length + 2 + session.readUInt16BE(NODE_SESSION_PREFIX.length)
    wrapper = session.subarray(0, end)
    der = session.subarray(end)
  }
  let fields: DerElement[]
  try {
    const sequence = readOne(der)
    if (!isUniversal(sequence, Tag.SEQUENCE)) return session
    fields = children(sequence)
  } catch {
    return session
  }
  const kept = fields.filter((f): boolean => !isContext(f, PEER_FIELD))
  if (kept.length === fields.length) return session
  const body = Buffer.concat(kept.map((f) => f.raw))
  return Buffer.concat([wrapper, sequenceHeader(body.length), body])
}

/** Returns a DER SEQUENCE header for `length` content octets (X.690 §8.1.3: definite, shortest form). */
function sequenceHeader (length: number): Buffer {
  if (length < 0x80) return Buffer.from([0x30, length])
  const octets: number[] = []
  for (let n = length; n > 0; n = Math.floor(n / 256)) octets.unshift(n % 256)
  return Buffer.from([0x30, 0x80 | octets.length, ...octets])
}
