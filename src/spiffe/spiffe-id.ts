import { quote } from '../internal/errors.ts'
import { MAX_SPIFFE_ID_BYTES, checkPath, parseIdString } from './id-rules.ts'
import { TrustDomain } from './trust-domain.ts'
import { spiffeError } from './errors.ts'

/**
 * A SPIFFE ID: `spiffe://<trust domain><path>`, validated per SPIFFE-ID §2. Two IDs are
 * equal when their canonical strings are equal (lowercase scheme and trust domain; the
 * path is case-sensitive, §2.4).
 * https://github.com/spiffe/spiffe/blob/main/standards/SPIFFE-ID.md#2-spiffe-identity
 */
export class SpiffeId {
  readonly trustDomain: TrustDomain
  /** `''` for the trust domain's own ID, otherwise `/seg/seg…`. */
  readonly path: string
  readonly #string: string

  private constructor (trustDomain: TrustDomain, path: string) {
    this.trustDomain = trustDomain
    this.path = path
    this.#string = `spiffe://${trustDomain.name}${path}`
  }

  /**
   * Returns the SPIFFE ID in `s`. The scheme is case-insensitive (§2.4) and normalized to
   * `spiffe`; everything else must already be canonical. Throws `ERR_SPIFFE_ID_*` or
   * `ERR_SPIFFE_TRUST_DOMAIN_*`, one code per rule.
   */
  static fromString (s: string): SpiffeId {
    const { trustDomain, path } = parseIdString(s)
    return new SpiffeId(TrustDomain.fromString(trustDomain), path)
  }

  /** Returns the ID with `path` (`''` or `/a/b`) in `td`. Throws `ERR_SPIFFE_ID_PATH_*`. */
  static fromPath (td: TrustDomain, path: string): SpiffeId {
    checkPath(path)
    const id = new SpiffeId(td, path)
    if (Buffer.byteLength(id.#string) > MAX_SPIFFE_ID_BYTES) {
      throw spiffeError('ERR_SPIFFE_ID_TOO_LONG', `spiffe id ${quote(id.#string)} is longer than ${MAX_SPIFFE_ID_BYTES} bytes`)
    }
    return id
  }

  /** Returns the canonical string form. */
  toString (): string { return this.#string }

  /** Returns the canonical string form (so JSON.stringify prints the ID). */
  toJSON (): string { return this.#string }

  /** Returns true when both are the same ID. */
  equals (o: SpiffeId): boolean { return o.#string === this.#string }

  /** Returns true when this ID lives in `td`. */
  memberOf (td: TrustDomain): boolean { return this.trustDomain.equals(td) }
}
