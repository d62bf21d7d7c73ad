import { quote } from '../internal/errors.ts'
import { spiffeError, type SpiffeErrorCode } from './errors.ts'

/**
 * The SPIFFE ID syntax rules, shared by {@link TrustDomain} and {@link SpiffeId}.
 * https://github.com/spiffe/spiffe/blob/main/standards/SPIFFE-ID.md#2-spiffe-identity
 */

/**
 * SPIFFE-ID §2.3: implementations MUST support IDs up to 2048 bytes and SHOULD NOT generate
 * longer ones, so 2048 is the interoperable maximum. We refuse longer IDs rather than carry
 * unbounded strings into logs, metrics labels and authorization maps.
 */
export const MAX_SPIFFE_ID_BYTES = 2048
/** SPIFFE-ID §2.3: the trust domain name is a URI host, at most 255 bytes. */
export const MAX_TRUST_DOMAIN_BYTES = 255

const SCHEME_PREFIX = 'spiffe://'
const TRUST_DOMAIN_CHAR = /^[a-z0-9._-]$/
const PATH_SEGMENT = /^[a-zA-Z0-9._-]+$/

function fail (code: SpiffeErrorCode, message: string): never {
  throw spiffeError(code, message)
}

function where (value: string, input: string): string {
  return value === input ? quote(input) : `${quote(value)} in ${quote(input)}`
}

/**
 * Checks a trust domain name (SPIFFE-ID §2.1): non-empty, no userinfo or port, lowercase,
 * only `[a-z0-9._-]`, no percent-encoding, at most 255 bytes. `input` is the whole string
 * being parsed, quoted in messages. Throws `ERR_SPIFFE_TRUST_DOMAIN_*`.
 */
export function checkTrustDomainName (name: string, input: string = name): void {
  const at = where(name, input)
  if (name === '') fail('ERR_SPIFFE_TRUST_DOMAIN_EMPTY', `trust domain must not be empty in ${quote(input)}`)
  if (name.length > MAX_TRUST_DOMAIN_BYTES) {
    fail('ERR_SPIFFE_TRUST_DOMAIN_TOO_LONG', `trust domain ${at} is longer than ${MAX_TRUST_DOMAIN_BYTES} bytes`)
  }
  if (name.includes('@')) fail('ERR_SPIFFE_TRUST_DOMAIN_USERINFO', `trust domain ${at} must not contain userinfo ("@")`)
  if (name.includes('[')) {
    fail('ERR_SPIFFE_TRUST_DOMAIN_CHARACTER', `trust domain ${at} must not be an ipv6 literal`)
  }
  if (name.includes(':')) fail('ERR_SPIFFE_TRUST_DOMAIN_PORT', `trust domain ${at} must not contain a port or ":"`)
  if (name.includes('%')) {
    fail('ERR_SPIFFE_TRUST_DOMAIN_PERCENT_ENCODED', `trust domain ${at} must not contain percent-encoded characters`)
  }
  if (/[A-Z]/.test(name)) {
    fail('ERR_SPIFFE_TRUST_DOMAIN_UPPERCASE',
      `trust domain ${at} must be lowercase (did you mean ${quote(name.toLowerCase())}?)`)
  }
  for (const ch of name) {
    if (!TRUST_DOMAIN_CHAR.test(ch)) {
      fail('ERR_SPIFFE_TRUST_DOMAIN_CHARACTER',
        `trust domain ${at} contains ${quote(ch)}; only letters a-z, digits, ".", "-" and "_" are allowed`)
    }
  }
}

/**
 * Checks a path (SPIFFE-ID §2.2): empty, or `/`-separated segments of `[a-zA-Z0-9._-]`,
 * none empty, `.` or `..`, no trailing `/`, no percent-encoding. Throws `ERR_SPIFFE_ID_PATH_*`.
 */
export function checkPath (path: string, input: string = path): void {
  if (path === '') return
  const at = where(path, input)
  if (!path.startsWith('/')) fail('ERR_SPIFFE_ID_PATH_NO_LEADING_SLASH', `path ${at} must be empty or start with "/"`)
  if (path.endsWith('/')) fail('ERR_SPIFFE_ID_PATH_TRAILING_SLASH', `path ${at} must not end with "/"`)
  for (const segment of path.slice(1).split('/')) {
    if (segment === '') fail('ERR_SPIFFE_ID_PATH_EMPTY_SEGMENT', `path ${at} must not contain an empty segment ("//")`)
    if (segment === '.' || segment === '..') {
      fail('ERR_SPIFFE_ID_PATH_DOT_SEGMENT', `path ${at} must not contain a ${quote(segment)} segment`)
    }
    if (segment.includes('%')) {
      fail('ERR_SPIFFE_ID_PATH_PERCENT_ENCODED', `path ${at} must not contain percent-encoded characters`)
    }
    if (!PATH_SEGMENT.test(segment)) {
      const ch = [...segment].find((c) => !PATH_SEGMENT.test(c)) ?? ''
      fail('ERR_SPIFFE_ID_PATH_CHARACTER',
        `path ${at} contains ${quote(ch)}; segments allow only letters, digits, ".", "-" and "_"`)
    }
  }
}

/**
 * Splits and checks a SPIFFE ID string. The scheme is matched case-insensitively (SPIFFE-ID
 * §2.4, RFC 3986 §3.1) and returned normalized; the trust domain must already be lowercase
 * (§2.1). Throws `ERR_SPIFFE_ID_*` / `ERR_SPIFFE_TRUST_DOMAIN_*`.
 */
export function parseIdString (input: unknown): { trustDomain: string, path: string } {
  if (typeof input !== 'string') fail('ERR_SPIFFE_ID_NOT_A_STRING', `spiffe id must be a string, got ${quote(typeof input)}`)
  if (input === '') fail('ERR_SPIFFE_ID_EMPTY', 'spiffe id must not be empty')
  if (Buffer.byteLength(input) > MAX_SPIFFE_ID_BYTES) {
    fail('ERR_SPIFFE_ID_TOO_LONG', `spiffe id ${quote(input)} is longer than ${MAX_SPIFFE_ID_BYTES} bytes`)
  }
  if (input.slice(0, SCHEME_PREFIX.length).toLowerCase() !== SCHEME_PREFIX) {
    fail('ERR_SPIFFE_ID_SCHEME', `spiffe id ${quote(input)} must start with "spiffe://"`)
  }
  const rest = input.slice(SCHEME_PREFIX.length)
  const q = rest.indexOf('?')
  const f = rest.indexOf('#')
  if (q >= 0 && (f < 0 || q < f)) fail('ERR_SPIFFE_ID_QUERY', `spiffe id ${quote(input)} must not contain a query ("?")`)
  if (f >= 0) fail('ERR_SPIFFE_ID_FRAGMENT', `spiffe id ${quote(input)} must not contain a fragment ("#")`)
  const slash = rest.indexOf('/')
  const trustDomain = slash < 0 ? rest : rest.slice(0, slash)
  const path = slash < 0 ? '' : rest.slice(slash)
  checkTrustDomainName(trustDomain, input)
  checkPath(path, input)
  return { trustDomain, path }
}
