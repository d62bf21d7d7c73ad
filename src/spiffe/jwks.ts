import { quote } from '../internal/errors.ts'
import { describeContent } from '../internal/content-summary.ts'
import { field, index, isObject, typeName } from './key-path.ts'
import { spiffeError, type SpiffeErrorCode } from './errors.ts'

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/

/** One `x509-svid` authority found in a SPIFFE bundle, with the key path it came from. */
export interface JwksAuthority {
  der: Buffer
  at: string
}

function fail (code: SpiffeErrorCode, message: string, at: string): never {
  throw spiffeError(code, message, { at })
}

/**
 * Returns the DER of every X.509 authority of a SPIFFE bundle (an RFC 7517 JWK Set):
 * - the set must be an object with a `keys` array (Trust Domain and Bundle §4.1.3);
 *   `spiffe_sequence` and `spiffe_refresh_hint`, when present, must be non-negative integers;
 * - keys whose `use` is not `x509-svid` (jwt-svid, unknown or missing) are ignored (§4.2.2);
 * - an `x509-svid` key without `x5c`, or with an empty one, is ignored, and only the first
 *   `x5c` value counts (X509-SVID §6.2); a present `x5c` that is not an array of standard
 *   base64 strings is rejected: it is damage, not an unknown extension;
 * - the JWK's own key parameters (`kty`, `x`, `n`…) are not trusted: the certificate is.
 * `base` is the key path of `doc` for messages. Throws `ERR_SPIFFE_BUNDLE_JWKS_MALFORMED`,
 * `ERR_SPIFFE_BUNDLE_BAD_SEQUENCE`, `ERR_SPIFFE_BUNDLE_JWK_MALFORMED`,
 * `ERR_SPIFFE_BUNDLE_JWK_BAD_X5C` or `ERR_SPIFFE_BUNDLE_NO_X509_AUTHORITIES`.
 * https://github.com/spiffe/spiffe/blob/main/standards/SPIFFE_Trust_Domain_and_Bundle.md#4-spiffe-bundle-format
 */
export function parseJwksAuthorities (doc: unknown, base = ''): JwksAuthority[] {
  const self = base === '' ? 'bundle' : base
  if (!isObject(doc)) {
    fail('ERR_SPIFFE_BUNDLE_JWKS_MALFORMED', `spiffe bundle ${quote(self)} must be a json object (a jwk set), got ${typeName(doc)}`, self)
  }
  for (const name of ['spiffe_sequence', 'spiffe_refresh_hint']) {
    const v = doc[name]
    if (v !== undefined && !(typeof v === 'number' && Number.isInteger(v) && v >= 0)) {
      fail('ERR_SPIFFE_BUNDLE_BAD_SEQUENCE', `${name} must be a non-negative integer, got ${quote(JSON.stringify(v))}`, field(base, name))
    }
  }
  const keysAt = field(base, 'keys')
  const keys = doc.keys
  if (!Array.isArray(keys)) {
    fail('ERR_SPIFFE_BUNDLE_JWKS_MALFORMED', `${keysAt} must be an array of jwks, got ${typeName(keys)}`, keysAt)
  }
  const out: JwksAuthority[] = []
  for (const [i, jwk] of keys.entries()) {
    const at = index(keysAt, i)
    if (!isObject(jwk)) fail('ERR_SPIFFE_BUNDLE_JWK_MALFORMED', `${at} must be a json object, got ${typeName(jwk)}`, at)
    if (jwk.use !== 'x509-svid') continue
    const x5c = jwk.x5c
    const x5cAt = field(at, 'x5c')
    if (x5c === undefined) continue
    if (!Array.isArray(x5c)) fail('ERR_SPIFFE_BUNDLE_JWK_BAD_X5C', `${x5cAt} must be an array, got ${typeName(x5c)}`, x5cAt)
    if (x5c.length === 0) continue
    const first: unknown = x5c[0]
    const firstAt = index(x5cAt, 0)
    if (typeof first !== 'string' || first === '' || !BASE64.test(first)) {
      fail('ERR_SPIFFE_BUNDLE_JWK_BAD_X5C',
        `${firstAt} must be a standard base64 der certificate, got ${typeof first === 'string' ? describeContent(first) : typeName(first)}`, firstAt)
    }
    out.push({ der: Buffer.from(first, 'base64'), at: firstAt })
  }
  if (out.length === 0) {
    fail('ERR_SPIFFE_BUNDLE_NO_X509_AUTHORITIES',
      `spiffe bundle ${quote(self)} has no "x509-svid" key with an x5c certificate`, keysAt)
  }
  return out
}
