import type { X509Certificate } from 'node:crypto'
import { subjectText } from './certificate-authority.ts'
import type { KeyUsageName } from './certificate-profile.ts'
import { keyAlgorithmOf, type KeyAlgorithm } from './key-algorithm.ts'
import { toArrayBuffer } from './sign.ts'
import { x509, type X509 } from './x509.ts'
import { describeExtension, type OtherExtension } from './extension-names.ts'
import { pkiError } from './errors.ts'

/**
 * Everything `openssl x509 -text` would show about a certificate, as data. For display
 * (`spiffe-lb inspect`), not for security decisions: the verifier reads DER itself.
 */
export interface CertificateDetails {
  subject: string
  issuer: string
  /** Lowercase hex without separators. */
  serialHex: string
  notBefore: Date
  notAfter: Date
  /** openssl's name: `ecdsa-with-SHA256`, `sha256WithRSAEncryption`… */
  signatureAlgorithm: string
  publicKey: { type: string, bits: number | undefined, curve: string | undefined }
  /** Set when the key is one of the five algorithms spiffe-lb issues. */
  keyAlgorithm: KeyAlgorithm | undefined
  subjectAltName: { critical: boolean, uris: string[], dnsNames: string[], ipAddresses: string[], emails: string[], other: string[] } | undefined
  basicConstraints: { critical: boolean, ca: boolean, pathLen: number | undefined } | undefined
  keyUsage: { critical: boolean, usages: KeyUsageName[] } | undefined
  /** Purposes by name (`serverAuth`) when known, else the OID. */
  extKeyUsage: { critical: boolean, usages: string[] } | undefined
  /** Colon-separated uppercase hex, as openssl prints it. */
  subjectKeyIdentifier: string | undefined
  authorityKeyIdentifier: string | undefined
  /** Extensions not listed above, named and decoded where known. */
  otherExtensions: OtherExtension[]
  /** SHA-256 of the DER, colon-separated uppercase hex. */
  fingerprintSha256: string
}

const KEY_USAGES: KeyUsageName[] = ['digitalSignature', 'nonRepudiation', 'keyEncipherment', 'dataEncipherment',
  'keyAgreement', 'keyCertSign', 'cRLSign', 'encipherOnly', 'decipherOnly']

const EKU_NAMES: Readonly<Record<string, string>> = {
  '1.3.6.1.5.5.7.3.1': 'serverAuth',
  '1.3.6.1.5.5.7.3.2': 'clientAuth',
  '1.3.6.1.5.5.7.3.3': 'codeSigning',
  '1.3.6.1.5.5.7.3.4': 'emailProtection',
  '1.3.6.1.5.5.7.3.8': 'timeStamping',
  '1.3.6.1.5.5.7.3.9': 'ocspSigning',
  '2.5.29.37.0': 'anyExtendedKeyUsage'
}

const CURVE_BITS: Readonly<Record<string, number>> = { prime256v1: 256, secp384r1: 384, secp521r1: 521 }

/** Returns the details of `cert`; throws `ERR_SPIFFE_PKI_BAD_CERTIFICATE` when its extensions do not parse. */
export function describeCertificate (cert: X509Certificate): CertificateDetails {
  let parsed: X509.X509Certificate
  try {
    parsed = new x509.X509Certificate(toArrayBuffer(cert.raw))
  } catch (err) {
    throw pkiError('ERR_SPIFFE_PKI_BAD_CERTIFICATE', 'certificate does not parse', { cause: err })
  }
  const key = cert.publicKey
  const d = key.asymmetricKeyDetails ?? {}
  const handled = new Set(['2.5.29.17', '2.5.29.19', '2.5.29.15', '2.5.29.37', '2.5.29.14', '2.5.29.35'])
  const san = parsed.getExtension(x509.SubjectAlternativeNameExtension)
  const bc = parsed.getExtension(x509.BasicConstraintsExtension)
  const ku = parsed.getExtension(x509.KeyUsagesExtension)
  const eku = parsed.getExtension(x509.ExtendedKeyUsageExtension)
  const ski = parsed.getExtension(x509.SubjectKeyIdentifierExtension)
  const aki = parsed.getExtension(x509.AuthorityKeyIdentifierExtension)
  const names = san?.names.toJSON() ?? []
  const of = (type: string): string[] => names.filter((n) => n.type === type).map((n) => n.value)
  return {
    subject: subjectText(cert),
    issuer: (cert.issuer as string | undefined ?? '').split('\n').join(', '),
    serialHex: cert.serialNumber.toLowerCase(),
    notBefore: cert.validFromDate,
    notAfter: cert.validToDate,
    signatureAlgorithm: signatureName(parsed),
    publicKey: {
      type: key.asymmetricKeyType ?? 'unknown',
      bits: d.modulusLength ?? (d.namedCurve === undefined ? undefined : CURVE_BITS[d.namedCurve]),
      curve: d.namedCurve
    },
    keyAlgorithm: tryKeyAlgorithm(cert),
    subjectAltName: san === null
      ? undefined
      : {
          critical: san.critical,
          uris: of('url'),
          dnsNames: of('dns'),
          ipAddresses: of('ip'),
          emails: of('email'),
          other: names.filter((n) => !['url', 'dns', 'ip', 'email'].includes(n.type)).map((n) => `${n.type}:${n.value}`)
        },
    basicConstraints: bc === null ? undefined : { critical: bc.critical, ca: bc.ca, pathLen: bc.pathLength },
    keyUsage: ku === null ? undefined : { critical: ku.critical, usages: KEY_USAGES.filter((n) => (ku.usages & x509.KeyUsageFlags[n]) !== 0) },
    extKeyUsage: eku === null ? undefined : { critical: eku.critical, usages: eku.usages.map((u) => EKU_NAMES[String(u)] ?? String(u)) },
    subjectKeyIdentifier: ski === null ? undefined : colonHex(ski.keyId),
    authorityKeyIdentifier: aki?.keyId === undefined ? undefined : colonHex(aki.keyId),
    otherExtensions: parsed.extensions.filter((e) => !handled.has(e.type)).map(describeExtension),
    fingerprintSha256: cert.fingerprint256
  }
}

/** Returns hex as `AB:CD:…`. */
export function colonHex (hex: string): string {
  return (hex.toUpperCase().match(/../g) ?? []).join(':')
}

function tryKeyAlgorithm (cert: X509Certificate): KeyAlgorithm | undefined {
  try {
    return keyAlgorithmOf(cert.publicKey)
  } catch {
    return undefined
  }
}

/** Returns openssl's name of the signature algorithm of a parsed certificate or CRL (`ecdsa-with-SHA256`…). */
export function signatureName (signed: { signatureAlgorithm: unknown }): string {
  const alg = signed.signatureAlgorithm as { name?: string, hash?: { name?: string } }
  const hash = (alg.hash?.name ?? '').replace('-', '')
  if (alg.name === 'ECDSA') return `ecdsa-with-${hash}`
  if (alg.name === 'RSASSA-PKCS1-v1_5') return `${hash.toLowerCase()}WithRSAEncryption`
  if (alg.name === 'RSA-PSS') return 'rsassaPss'
  return alg.name ?? 'unknown'
}
