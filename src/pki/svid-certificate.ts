import { createPublicKey, type KeyObject } from 'node:crypto'
import { quote } from '../internal/errors.ts'
import { subjectText } from './certificate-authority.ts'
import type { CertificateAuthority } from './ca-types.ts'
import { signProfile, type CertificateProfile, type IssuedCertificate, type SignedCertificate } from './certificate-profile.ts'
import { DEFAULT_KEY_ALGORITHM, generateKeys, isRsa, keyAlgorithmOf, privateKeyPem, type KeyAlgorithm } from './key-algorithm.ts'
import { toSeconds } from './sign.ts'
import { pkiError } from './errors.ts'

/** What goes into an X.509-SVID leaf; everything else is fixed by the profile. */
export interface SvidCertificateOptions {
  /** The one URI SAN (the SPIFFE ID; this module does not check it). */
  uri: string
  /** Optional DNS SANs after the URI (the spec allows other SAN types beside the one URI). */
  dnsNames?: readonly string[]
  /** Subject DN; default empty, like the certificates Google's managed workload identity issues. */
  subject?: string
  /** Algorithm of the generated key. Default `ECDSA_P256`. Ignored when `publicKey` is given. */
  keyAlgorithm?: KeyAlgorithm
  /** ms since the epoch. Default `Date.now()`. */
  notBefore?: number
  /** Requested lifetime; notAfter is `notBefore + lifetimeMs - 1 s` unless the CA expires first. */
  lifetimeMs: number
  /** Certify this key instead of generating one: the caller keeps its private key. */
  publicKey?: KeyObject
}

/**
 * Returns an X.509-SVID leaf signed by `ca`, with exactly the profile of the X509-SVID spec
 * (https://github.com/spiffe/spiffe/blob/main/standards/X509-SVID.md sections 2 and 4): a single URI
 * SAN (critical when the subject is empty), basicConstraints CA:FALSE, keyUsage
 * digitalSignature critical (plus keyEncipherment for RSA keys, for TLS 1.2 RSA key transport),
 * EKU serverAuth + clientAuth, a random positive 128-bit serial, SKI and AKI. With `publicKey`
 * the result carries no private key.
 */
export async function issueSvidCertificate (ca: CertificateAuthority, opts: SvidCertificateOptions & { publicKey: KeyObject }): Promise<SignedCertificate>
export async function issueSvidCertificate (ca: CertificateAuthority, opts: SvidCertificateOptions): Promise<IssuedCertificate>
export async function issueSvidCertificate (ca: CertificateAuthority, opts: SvidCertificateOptions): Promise<IssuedCertificate | SignedCertificate> {
  if (opts.uri === '') {
    throw pkiError('ERR_SPIFFE_PKI_EMPTY_URI', 'an svid needs a uri san, got an empty string')
  }
  if (!Number.isFinite(opts.lifetimeMs) || opts.lifetimeMs < 1000) {
    throw pkiError('ERR_SPIFFE_PKI_LIFETIME', `lifetime ${quote(opts.lifetimeMs)} ms is not at least one second`)
  }
  const notBefore = toSeconds(opts.notBefore ?? Date.now())
  // X.509 validity includes its last second, hence -1 s (Google's SVIDs: 10:15:48 .. 10:15:47
  // next day); a 1 s lifetime is thus notBefore == notAfter, one valid second, not an error.
  // Clamped: a leaf valid after its issuer expires would be refused by every verifier from that
  // moment on, so it must not claim a lifetime the CA cannot back.
  const notAfter = Math.min(notBefore + opts.lifetimeMs - 1000, toSeconds(ca.cert.validToDate.getTime()))
  if (notAfter < notBefore) {
    throw pkiError('ERR_SPIFFE_PKI_ISSUER_EXPIRED',
      `issuing ca ${quote(subjectText(ca.cert))} expires at ${ca.cert.validToDate.toISOString()}, before the svid could start`)
  }
  const generated = opts.publicKey === undefined ? (await generateKeys(opts.keyAlgorithm ?? DEFAULT_KEY_ALGORITHM)).privateKey : undefined
  const key = generated ?? opts.publicKey as KeyObject // one of the two is set: generated exactly when no key was given
  const alg = keyAlgorithmOf(key)
  const profile: CertificateProfile = {
    subject: opts.subject ?? '',
    uris: [opts.uri],
    dnsNames: opts.dnsNames ?? [],
    isCa: false,
    keyUsage: isRsa(alg) ? ['digitalSignature', 'keyEncipherment'] : ['digitalSignature'],
    keyUsageCritical: true,
    extKeyUsage: ['serverAuth', 'clientAuth'],
    notBefore,
    notAfter
  }
  // A caller's private key, passed as `publicKey`, is certified by its public half only.
  const signed = await signProfile(ca, profile, key.type === 'private' ? createPublicKey(key) : key)
  if (generated === undefined) return signed
  return { ...signed, privateKey: generated, keyPem: privateKeyPem(generated) }
}
