/**
 * Request path normalisation before routing (docs/architecture.md#security-model): the url map must judge the
 * same path the backend receives, so `/hello/../f/x` can never be routed as `/hello/*` and
 * served as `/f/x`. RFC 3986 section 6.2.2: percent-encodings of unreserved characters are
 * decoded (6.2.2.2) and the others upper-cased (6.2.2.1); dot segments are removed (5.2.4);
 * `//` is merged. An encoded `/` or `\` (`%2F`, `%5C`) and a raw `\` are refused: backends
 * disagree on whether they separate segments, which is exactly what path confusion exploits.
 */

/** The outcome of {@link normalizeRequestPath}. */
export type NormalizedPath = { ok: true, path: string } | { ok: false, reason: string }

const UNRESERVED = /^[A-Za-z0-9\-._~]$/

/**
 * Returns the normalised form of the origin-form request target `target` (`/p?q`; the query is
 * kept as sent), or why it is refused. `*` (OPTIONS) is returned unchanged.
 */
export function normalizeRequestPath (target: string): NormalizedPath {
  if (target === '*') return { ok: true, path: target }
  const q = target.indexOf('?')
  const raw = q === -1 ? target : target.slice(0, q)
  const query = q === -1 ? '' : target.slice(q)
  if (!raw.startsWith('/')) return { ok: false, reason: 'request path must start with "/"' }
  if (raw.includes('\\')) return { ok: false, reason: 'request path contains a backslash' }
  let decoded = ''
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i] as string
    if (c !== '%') { decoded += c; continue }
    const hex = raw.slice(i + 1, i + 3)
    if (!/^[0-9A-Fa-f]{2}$/.test(hex)) return { ok: false, reason: 'request path has an invalid percent-encoding' }
    const upper = hex.toUpperCase()
    if (upper === '2F') return { ok: false, reason: 'request path contains an encoded "/" (%2F)' }
    if (upper === '5C') return { ok: false, reason: 'request path contains an encoded "\\" (%5C)' }
    const ch = String.fromCharCode(parseInt(hex, 16))
    decoded += UNRESERVED.test(ch) ? ch : `%${upper}`
    i += 2
  }
  return { ok: true, path: removeDotSegments(decoded.replace(/\/{2,}/g, '/')) + query }
}

/** RFC 3986 section 5.2.4 `remove_dot_segments`, for an absolute path. */
export function removeDotSegments (path: string): string {
  const out: string[] = []
  const segments = path.split('/').slice(1) // path starts with "/"
  for (const [i, s] of segments.entries()) {
    const last = i === segments.length - 1
    if (s === '.' || s === '..') {
      if (s === '..') out.pop()
      if (last) out.push('') // "/a/.." is "/", "/a/b/." is "/a/b/"
      continue
    }
    out.push(s)
  }
  return `/${out.join('/')}`
}
