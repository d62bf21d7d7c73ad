import { isSpiffeLbError, quote, type SpiffeLbError } from '../internal/errors.ts'
import { spiffeError } from './errors.ts'
import { SpiffeId } from './spiffe-id.ts'
import type { TrustDomain } from './trust-domain.ts'

const PLACEHOLDER = 'x'

function bad (input: string, rule: string, cause?: unknown): SpiffeLbError {
  return spiffeError('ERR_SPIFFE_ID_PATTERN_INVALID', `spiffe id pattern ${quote(input)} is invalid: ${rule}`,
    cause === undefined ? {} : { cause })
}

/**
 * A pattern over SPIFFE IDs: a SPIFFE ID (SPIFFE-ID §2) whose path segments may be `*` (exactly
 * one segment) and whose LAST segment may be `**` (one or more segments: the rest of the path).
 * The trust domain is always literal. `spiffe://example.org/**` admits every workload of
 * example.org; `spiffe://example.org/ns/*\/sa/web` the `web` account of any namespace.
 */
export class SpiffeIdPattern {
  readonly trustDomain: TrustDomain
  /** The path segments; `*` and `**` are wildcards. */
  readonly segments: readonly string[]
  readonly #string: string

  private constructor (trustDomain: TrustDomain, segments: readonly string[]) {
    this.trustDomain = trustDomain
    this.segments = segments
    this.#string = `spiffe://${trustDomain.name}/${segments.join('/')}`
  }

  /**
   * Returns the pattern in `input`. Throws `ERR_SPIFFE_ID_PATTERN_INVALID` naming the rule: not a
   * SPIFFE ID once wildcards are set aside, no path, `**` not last, or `*` inside a segment.
   */
  static parse (input: string): SpiffeIdPattern {
    const m = /^([a-zA-Z][a-zA-Z0-9+.-]*:\/\/[^/]*)(\/.*)?$/.exec(input)
    if (m === null) throw bad(input, 'expected spiffe://TRUST_DOMAIN/PATH')
    const path = m[2] ?? ''
    if (path === '') throw bad(input, 'it has no path; use "/**" to admit a whole trust domain')
    const segments = path.slice(1).split('/')
    segments.forEach((s, i) => {
      if (s === '**' && i !== segments.length - 1) throw bad(input, '"**" may only be the last segment')
      if (s !== '*' && s !== '**' && s.includes('*')) throw bad(input, `"*" must be a whole segment, got ${quote(s)}`)
    })
    let id: SpiffeId
    try {
      id = SpiffeId.fromString(`${m[1] ?? ''}/${segments.map((s) => s.includes('*') ? PLACEHOLDER : s).join('/')}`)
    } catch (err) {
      if (!isSpiffeLbError(err)) throw err
      throw bad(input, err.message, err)
    }
    return new SpiffeIdPattern(id.trustDomain, segments)
  }

  /** Returns true when `id` matches: same trust domain, and each segment equal or wildcarded. */
  matches (id: SpiffeId): boolean {
    if (!id.memberOf(this.trustDomain) || id.path === '') return false
    const parts = id.path.slice(1).split('/')
    for (const [i, s] of this.segments.entries()) {
      if (s === '**') return parts.length > i
      const part = parts[i]
      if (part === undefined || (s !== '*' && s !== part)) return false
    }
    return parts.length === this.segments.length
  }

  /** Returns the canonical string form (lowercase scheme and trust domain). */
  toString (): string { return this.#string }

  /** Returns the canonical string form. */
  toJSON (): string { return this.#string }
}
