import { createPublicKey, type KeyObject, type X509Certificate } from 'node:crypto'
import { quote } from '../internal/errors.ts'
import type { CertificateAuthority } from './ca-types.ts'
import { DEFAULT_KEY_ALGORITHM, generateKeys, keyAlgorithmOf, privateKeyPem, type KeyAlgorithm } from './key-algorithm.ts'
import { randomSerialHex } from './serial.ts'
import { caSigner, keyIdentifier, selfSigner, signCertificate, toSeconds, type Signer } from './sign.ts'
import { parseSubject } from './subject.ts'
import { x509, type X509 } from './x509.ts'
import { pkiError } from './errors.ts'
import { DAY_MS } from '../defaults.ts'

/** RFC 5280 section 4.2.1.3 key usage bits. */
export type KeyUsageName = 'digitalSignature' | 'nonRepudiation' | 'keyEncipherment' | 'dataEncipherment' |
  'keyAgreement' | 'keyCertSign' | 'cRLSign' | 'encipherOnly' | 'decipherOnly'

/** RFC 5280 section 4.2.1.12 extended key usage purposes by name, or any OID as a dotted string. */
export type ExtKeyUsageName = 'serverAuth' | 'clientAuth' | 'codeSigning' | 'emailProtection' |
  'timeStamping' | 'ocspSigning' | (string & {})

/**
 * Every field of a certificate, for tests that need a certificate that is wrong in exactly one
 * way. Each field is optional and DEFAULTS TO THE X.509-SVID LEAF PROFILE (empty subject, SAN
 * critical, CA:FALSE, keyUsage digitalSignature critical, EKU serverAuth+clientAuth, SKI, AKI,
 * 24 h lifetime, new ECDSA P-256 key, random serial), so set only the field you want to break.
 * Nothing is validated beyond what DER can encode: that is the point.
 * Profile: https://github.com/spiffe/spiffe/blob/main/standards/X509-SVID.md
 */
export interface CertificateProfile {
  /** Subject DN like `"CN=x, O=y"`. Default `''`: the empty subject of a typical X.509-SVID. */
  subject?: string
  /** URI SANs in order, e.g. `['spiffe://example.org/a']`. Two entries make an invalid SVID. Default none. */
  uris?: readonly string[]
  /** DNS SANs, after the URIs. Default none. No SAN extension at all when `uris` and `dnsNames` are both empty. */
  dnsNames?: readonly string[]
  /** Mark the SAN extension critical. Default: true exactly when the subject is empty (RFC 5280 4.2.1.6). */
  sanCritical?: boolean
  /** basicConstraints cA flag. Default false (a leaf). */
  isCa?: boolean
  /** basicConstraints pathLenConstraint; only meaningful with `isCa`. Default: absent (unlimited). */
  pathLen?: number
  /** Leave the basicConstraints extension out entirely. Default false. */
  omitBasicConstraints?: boolean
  /** Mark basicConstraints critical. Default true. */
  basicConstraintsCritical?: boolean
  /**
   * keyUsage bits, or `'omit'` to leave the extension out. Default: `['keyCertSign', 'cRLSign']`
   * when `isCa`, else `['digitalSignature']`.
   */
  keyUsage?: readonly KeyUsageName[] | 'omit'
  /** Mark keyUsage critical. Default true. */
  keyUsageCritical?: boolean
  /**
   * extendedKeyUsage purposes, or `'omit'` to leave the extension out. Default:
   * `['serverAuth', 'clientAuth']` for a leaf, `'omit'` when `isCa`.
   */
  extKeyUsage?: readonly ExtKeyUsageName[] | 'omit'
  /** Mark extendedKeyUsage critical. Default false. */
  extKeyUsageCritical?: boolean
  /** Include the subject key identifier. Default true. */
  subjectKeyIdentifier?: boolean
  /** Include the authority key identifier (the issuer's SKI; its own for `'self'`). Default true. */
  authorityKeyIdentifier?: boolean
  /** Start of validity, ms since the epoch (rounded down to the second). Default `Date.now()`. */
  notBefore?: number
  /**
   * End of validity, ms since the epoch. Default `notBefore + 24 h - 1 s`. NOT clamped to the
   * issuer's notAfter, so a test can make a leaf that outlives its CA.
   */
  notAfter?: number
  /** Algorithm of the generated key. Default `ECDSA_P256`. Ignored when `privateKey` is given. */
  keyAlgorithm?: KeyAlgorithm
  /** Certify this key instead of generating one (it is returned as the result's key). */
  privateKey?: KeyObject
  /** Serial number as hex (`'01'`, `'00ff'`…). Default: random positive 128 bits. */
  serialHex?: string
}

/** A signed certificate, for callers that keep their own private key. */
export interface SignedCertificate {
  cert: X509Certificate
  certPem: string
  /** The leaf followed by the issuing CA's intermediates, without the root: what a peer sends. */
  chainPem: string
  /** The serial number as lowercase hex, as node's X509Certificate prints it. */
  serialHex: string
}

/** A signed certificate with its private key (PKCS#8). */
export interface IssuedCertificate extends SignedCertificate {
  privateKey: KeyObject
  keyPem: string
}

const EKU_OIDS: Readonly<Record<string, string>> = {
  serverAuth: '1.3.6.1.5.5.7.3.1',
  clientAuth: '1.3.6.1.5.5.7.3.2',
  codeSigning: '1.3.6.1.5.5.7.3.3',
  emailProtection: '1.3.6.1.5.5.7.3.4',
  timeStamping: '1.3.6.1.5.5.7.3.8',
  ocspSigning: '1.3.6.1.5.5.7.3.9'
}

/**
 * Returns a certificate built from `profile`, signed by `issuer` (a CA) or by its own key
 * (`'self'`). See {@link CertificateProfile} for every field and its default.
 */
export async function issueCertificate (issuer: CertificateAuthority | 'self', profile: CertificateProfile = {}): Promise<IssuedCertificate> {
  const privateKey = profile.privateKey ?? (await generateKeys(profile.keyAlgorithm ?? DEFAULT_KEY_ALGORITHM)).privateKey
  const signed = await signProfile(issuer, profile, privateKey)
  return { ...signed, privateKey, keyPem: privateKeyPem(privateKey) }
}

/**
 * Returns a certificate for `key` (public, or private whose public half is certified) built
 * from `profile`; the private key never has to leave the caller. For `'self'`, `key` must be
 * the private key.
 */
export async function signProfile (issuer: CertificateAuthority | 'self', profile: CertificateProfile, key: KeyObject): Promise<SignedCertificate> {
  const subject = parseSubject(profile.subject ?? '')
  let signer: Signer
  if (issuer === 'self') {
    if (key.type !== 'private') {
      throw pkiError('ERR_SPIFFE_PKI_SELF_SIGN_NEEDS_PRIVATE_KEY',
        'a self-signed certificate needs the private key, got a public key')
    }
    signer = await selfSigner(subject, key)
  } else {
    signer = await caSigner(issuer.cert, issuer.privateKey)
  }
  const publicKey = key.type === 'private' ? createPublicKey(key) : key
  keyAlgorithmOf(publicKey) // refuse keys we would not generate ourselves
  const notBefore = toSeconds(profile.notBefore ?? Date.now())
  const notAfter = toSeconds(profile.notAfter ?? notBefore + DAY_MS - 1000)
  const serialHex = (profile.serialHex ?? randomSerialHex()).toLowerCase()
  if (!/^[0-9a-f]+$/.test(serialHex)) {
    throw pkiError('ERR_SPIFFE_PKI_BAD_SERIAL', `serial ${quote(serialHex)} is not hex`)
  }
  const extensions = await buildExtensions(profile, signer, publicKey)
  const { cert, certPem } = await signCertificate(signer, { subject, publicKey, serialHex, notBefore, notAfter, extensions })
  const chainPem = issuer === 'self' ? certPem : certPem + issuer.chainPem
  return { cert, certPem, chainPem, serialHex: cert.serialNumber.toLowerCase() }
}

async function buildExtensions (profile: CertificateProfile, signer: Signer, publicKey: KeyObject): Promise<X509.Extension[]> {
  const isCa = profile.isCa ?? false
  const exts: X509.Extension[] = []
  if (profile.omitBasicConstraints !== true) {
    exts.push(new x509.BasicConstraintsExtension(isCa, profile.pathLen, profile.basicConstraintsCritical ?? true))
  }
  const keyUsage = profile.keyUsage ?? (isCa ? ['keyCertSign', 'cRLSign'] : ['digitalSignature'])
  if (keyUsage !== 'omit') {
    const flags = keyUsage.reduce((acc, name) => acc | x509.KeyUsageFlags[name], 0)
    exts.push(new x509.KeyUsagesExtension(flags, profile.keyUsageCritical ?? true))
  }
  const eku = profile.extKeyUsage ?? (isCa ? 'omit' : ['serverAuth', 'clientAuth'])
  if (eku !== 'omit') {
    exts.push(new x509.ExtendedKeyUsageExtension(eku.map(ekuOid), profile.extKeyUsageCritical ?? false))
  }
  const names = [
    ...(profile.uris ?? []).map((value) => ({ type: 'url' as const, value })),
    ...(profile.dnsNames ?? []).map((value) => ({ type: 'dns' as const, value }))
  ]
  if (names.length > 0) {
    const emptySubject = (profile.subject ?? '').trim() === ''
    exts.push(new x509.SubjectAlternativeNameExtension(names, profile.sanCritical ?? emptySubject))
  }
  if (profile.subjectKeyIdentifier !== false) {
    exts.push(new x509.SubjectKeyIdentifierExtension(await keyIdentifier(publicKey)))
  }
  if (profile.authorityKeyIdentifier !== false) {
    exts.push(new x509.AuthorityKeyIdentifierExtension(signer.keyId))
  }
  return exts
}

function ekuOid (name: ExtKeyUsageName): string {
  const oid = Object.hasOwn(EKU_OIDS, name) ? EKU_OIDS[name] : name
  if (oid === undefined || !/^\d+(\.\d+)+$/.test(oid)) {
    throw pkiError('ERR_SPIFFE_PKI_UNKNOWN_EXT_KEY_USAGE',
      `extended key usage ${quote(name)} is not one of ${Object.keys(EKU_OIDS).join(', ')} or a dotted OID`)
  }
  return oid
}
