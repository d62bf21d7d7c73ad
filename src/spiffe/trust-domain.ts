import { quote } from '../internal/errors.ts'
import { checkTrustDomainName, parseIdString } from './id-rules.ts'
import { spiffeError } from './errors.ts'

/**
 * A SPIFFE trust domain name, validated per SPIFFE-ID §2.1.
 * https://github.com/spiffe/spiffe/blob/main/standards/SPIFFE-ID.md#21-trust-domain
 */
export class TrustDomain {
  /** The bare name, e.g. `example.org`. */
  readonly name: string

  private constructor (name: string) {
    this.name = name
  }

  /**
   * Returns the trust domain named by `s`, written bare (`example.org`) or as a SPIFFE ID
   * with no path (`spiffe://example.org`). Throws `ERR_SPIFFE_TRUST_DOMAIN_*` (or
   * `ERR_SPIFFE_ID_*` for a malformed `spiffe://` form).
   */
  static fromString (s: string): TrustDomain {
    if (typeof s === 'string' && s.includes('://')) {
      if (s.slice(0, 9).toLowerCase() !== 'spiffe://') {
        throw spiffeError('ERR_SPIFFE_TRUST_DOMAIN_SCHEME',
          `trust domain ${quote(s)} must be a bare name or start with "spiffe://"`)
      }
      const { trustDomain, path } = parseIdString(s)
      if (path !== '') {
        throw spiffeError('ERR_SPIFFE_TRUST_DOMAIN_HAS_PATH',
          `trust domain ${quote(s)} must not have a path (use ${quote(`spiffe://${trustDomain}`)})`)
      }
      return new TrustDomain(trustDomain)
    }
    if (typeof s !== 'string') {
      throw spiffeError('ERR_SPIFFE_TRUST_DOMAIN_NOT_A_STRING', `trust domain must be a string, got ${quote(typeof s)}`)
    }
    if (s.includes('/')) {
      throw spiffeError('ERR_SPIFFE_TRUST_DOMAIN_HAS_PATH', `trust domain ${quote(s)} must not contain "/"`)
    }
    checkTrustDomainName(s)
    return new TrustDomain(s)
  }

  /** Returns the bare name. */
  toString (): string { return this.name }

  /** Returns the trust domain's own SPIFFE ID, `spiffe://<name>`. */
  idString (): string { return `spiffe://${this.name}` }

  /** Returns true when both name the same trust domain. */
  equals (o: TrustDomain): boolean { return o.name === this.name }
}
