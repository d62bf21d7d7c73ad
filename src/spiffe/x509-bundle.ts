import { X509Certificate, createHash } from 'node:crypto'
import { quote } from '../internal/errors.ts'
import { parsePem, toPem } from '../internal/pem.ts'
import { certInfo, certLabel } from './cert-info.ts'
import { parseJwksAuthorities } from './jwks.ts'
import type { TrustDomain } from './trust-domain.ts'
import { spiffeError } from './errors.ts'

/** Returns the lowercase hex SHA-256 of a certificate's DER. */
export function fingerprint (cert: X509Certificate): string {
  return createHash('sha256').update(cert.raw).digest('hex')
}

/**
 * The X.509 authorities (trust anchors) of exactly one trust domain. An SVID of that domain
 * is accepted only if it chains to one of them; they never vouch for another domain.
 * https://github.com/spiffe/spiffe/blob/main/standards/SPIFFE_Trust_Domain_and_Bundle.md#3-spiffe-bundles
 */
export class X509Bundle {
  readonly trustDomain: TrustDomain
  /** The authorities, deduplicated by fingerprint, in first-seen order. */
  readonly authorities: readonly X509Certificate[]
  readonly #fingerprints: readonly string[]

  /**
   * Returns a bundle of `authorities` for `td`. Throws `ERR_SPIFFE_BUNDLE_EMPTY` when there
   * are none and `ERR_SPIFFE_BUNDLE_AUTHORITY_NOT_CA` when one is not a CA certificate (a
   * leaf pasted as an anchor is a configuration mistake better caught at load time).
   */
  constructor (td: TrustDomain, authorities: readonly X509Certificate[], source?: string) {
    const at = source === undefined || source === '' ? {} : { at: source }
    if (authorities.length === 0) {
      throw spiffeError('ERR_SPIFFE_BUNDLE_EMPTY',
        `bundle for trust domain ${quote(td.name)} has no x.509 authorities`, at)
    }
    const seen = new Map<string, X509Certificate>()
    for (const cert of authorities) {
      checkAuthority(td, cert, source)
      const fp = fingerprint(cert)
      if (!seen.has(fp)) seen.set(fp, cert)
    }
    this.trustDomain = td
    this.authorities = Object.freeze([...seen.values()])
    this.#fingerprints = Object.freeze([...seen.keys()])
  }

  /**
   * Returns the bundle of the CERTIFICATE blocks in `pem`. Throws `ERR_SPIFFE_PEM_*`,
   * `ERR_SPIFFE_BUNDLE_UNEXPECTED_PEM_BLOCK` (a key in a trust bundle is always a mistake),
   * `ERR_SPIFFE_BUNDLE_BAD_CERTIFICATE`, or `ERR_SPIFFE_BUNDLE_EMPTY`.
   */
  static fromPem (td: TrustDomain, pem: string, source = 'bundle'): X509Bundle {
    const certs: X509Certificate[] = []
    for (const [i, block] of parsePem(pem, source).entries()) {
      if (block.type !== 'CERTIFICATE') {
        throw spiffeError('ERR_SPIFFE_BUNDLE_UNEXPECTED_PEM_BLOCK',
          `trust bundle pem block ${i + 1} is ${quote(block.type)}, expected only "CERTIFICATE"`, { at: source })
      }
      certs.push(parseAuthority(td, block.der, `pem block ${i + 1}`, source))
    }
    return new X509Bundle(td, certs, source)
  }

  /**
   * Returns the bundle of the `x509-svid` keys of a SPIFFE bundle (a JWK Set; jwt-svid and
   * unknown keys are ignored). See {@link parseJwksAuthorities} for the rules and errors.
   * https://github.com/spiffe/spiffe/blob/main/standards/X509-SVID.md#62-consuming-a-spiffe-bundle
   */
  static fromJwks (td: TrustDomain, doc: unknown, source = ''): X509Bundle {
    const ders = parseJwksAuthorities(doc, source)
    return new X509Bundle(td, ders.map(({ der, at }) => parseAuthority(td, der, at, at)), source)
  }

  /** Returns the authorities as concatenated PEM. */
  toPem (): string {
    return this.authorities.map((c) => toPem('CERTIFICATE', c.raw)).join('')
  }

  /**
   * Returns the bundle as a SPIFFE bundle JWK Set: one `x509-svid` JWK per authority with its
   * public key parameters and `x5c`, no `kid` (X509-SVID §6.1).
   */
  toJwks (sequence?: number): object {
    const keys = this.authorities.map((c) => ({
      ...(c.publicKey.export({ format: 'jwk' }) as Record<string, unknown>),
      use: 'x509-svid',
      x5c: [c.raw.toString('base64')]
    }))
    return sequence === undefined ? { keys } : { keys, spiffe_sequence: sequence }
  }

  /** Returns the lowercase hex SHA-256 fingerprints of the authorities, in order. */
  fingerprints (): string[] { return [...this.#fingerprints] }

  /** Returns a bundle with `more` authorities added (duplicates by fingerprint dropped). */
  withAuthorities (more: readonly X509Certificate[]): X509Bundle {
    return new X509Bundle(this.trustDomain, [...this.authorities, ...more])
  }

  /** Returns true when both bundles hold the same trust domain and the same authorities. */
  equals (o: X509Bundle): boolean {
    const a = this.#fingerprints
    const b = o.fingerprints()
    return this.trustDomain.equals(o.trustDomain) && a.length === b.length && b.every((fp) => a.includes(fp))
  }
}

function checkAuthority (td: TrustDomain, cert: X509Certificate, at: string | undefined): void {
  if (!certInfo(cert).basicConstraints.ca) {
    throw spiffeError('ERR_SPIFFE_BUNDLE_AUTHORITY_NOT_CA',
      `authority ${quote(certLabel(cert))} of trust domain ${quote(td.name)} is not a ca certificate (basicConstraints ca is not true)`,
      at === undefined || at === '' ? {} : { at })
  }
}

/**
 * Parses one DER trust anchor of `td`; throws `ERR_SPIFFE_BUNDLE_BAD_CERTIFICATE` (naming
 * `what`) or `ERR_SPIFFE_BUNDLE_AUTHORITY_NOT_CA`, both `at` the given key path.
 */
export function parseAuthority (td: TrustDomain, der: Buffer, what: string, at: string): X509Certificate {
  let cert: X509Certificate
  try {
    cert = new X509Certificate(der)
    certInfo(cert) // refuse now what verification could not read later
  } catch (err) {
    throw spiffeError('ERR_SPIFFE_BUNDLE_BAD_CERTIFICATE',
      `${what} is not a valid x.509 certificate: ${(err as Error).message}`, { at, cause: err })
  }
  checkAuthority(td, cert, at)
  return cert
}
