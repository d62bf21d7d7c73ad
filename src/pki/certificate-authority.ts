import { X509Certificate, createPrivateKey, type KeyObject } from 'node:crypto'
import { quote } from '../internal/errors.ts'
import { parsePem, toPem } from '../internal/pem.ts'
import { issueCertificate } from './certificate-profile.ts'
import { DEFAULT_KEY_ALGORITHM, keyAlgorithmOf, privateKeyPem, type KeyAlgorithm } from './key-algorithm.ts'
import { toArrayBuffer } from './sign.ts'
import { x509 } from './x509.ts'
import type { CertificateAuthority } from './ca-types.ts'
import { CA_LIFETIME_MS } from '../defaults.ts'
import { pkiError } from './errors.ts'

/** How to make a root or subordinate CA; mirrors `gcloud privateca roots create` flags. */
export interface CaOptions {
  /** Like gcloud's `--subject`: `"CN=Demo Root CA, O=Demo"`. */
  subject: string
  /** Default `ECDSA_P256`. */
  keyAlgorithm?: KeyAlgorithm
  /** gcloud's `--max-chain-length`: the basicConstraints pathLenConstraint. Default: unlimited for a root, parent's minus one for a subordinate. */
  maxChainLength?: number
  /** ms since the epoch. Default `Date.now()`. */
  notBefore?: number
  /** Default 10 years (gcloud's default CA lifetime, 315360000s). */
  lifetimeMs?: number
  /** Use this key instead of generating one (`keyAlgorithm` is then ignored). */
  privateKey?: KeyObject
}

/** gcloud's default CA lifetime: 315360000s. */
export const DEFAULT_CA_LIFETIME_MS = CA_LIFETIME_MS

/** Returns a new self-signed root CA (basicConstraints CA:TRUE critical, keyCertSign+cRLSign critical, SKI). */
export async function createRootCa (opts: CaOptions): Promise<CertificateAuthority> {
  checkChainLength(opts.maxChainLength)
  const notBefore = opts.notBefore ?? Date.now()
  const issued = await issueCertificate('self', {
    ...caProfile(opts, opts.maxChainLength),
    notBefore,
    notAfter: notBefore + lifetime(opts) - 1000
  })
  return assemble(issued.cert, issued.privateKey, [])
}

/**
 * Returns a new CA signed by `parent`. Refuses with `ERR_SPIFFE_PKI_PATH_LENGTH` when the parent's
 * pathLen is 0, and with `ERR_SPIFFE_PKI_MAX_CHAIN_LENGTH` when `maxChainLength` asks for more
 * than the parent allows. Its notAfter is clamped to the parent's: a CA cannot outlive its issuer.
 */
export async function createSubordinateCa (parent: CertificateAuthority, opts: CaOptions): Promise<CertificateAuthority> {
  checkChainLength(opts.maxChainLength)
  const parentLen = parent.maxChainLength
  if (parentLen === 0) {
    throw pkiError('ERR_SPIFFE_PKI_PATH_LENGTH',
      `parent ca ${quote(subjectText(parent.cert))} has pathLen 0 and may not sign another ca`)
  }
  const allowed = parentLen === undefined ? undefined : parentLen - 1
  if (opts.maxChainLength !== undefined && allowed !== undefined && opts.maxChainLength > allowed) {
    throw pkiError('ERR_SPIFFE_PKI_MAX_CHAIN_LENGTH',
      `max chain length ${opts.maxChainLength} exceeds the ${allowed} the parent ca allows below it`)
  }
  const notBefore = opts.notBefore ?? Date.now()
  const notAfter = Math.min(notBefore + lifetime(opts) - 1000, parent.cert.validToDate.getTime())
  const issued = await issueCertificate(parent, {
    ...caProfile(opts, opts.maxChainLength ?? allowed),
    notBefore,
    notAfter
  })
  return assemble(issued.cert, issued.privateKey, parent.chain)
}

/**
 * Returns the CA stored as PEM: `certPem` (the CA cert first; more certs are taken as parents),
 * its private key, and optionally the parents up to the root in any order. Throws
 * `ERR_SPIFFE_PKI_KEY_MISMATCH` when the key is not the certificate's, `ERR_SPIFFE_PKI_NOT_A_CA`
 * when a certificate cannot sign certificates, `ERR_SPIFFE_PKI_CHAIN_INCOMPLETE` when no parent
 * chain leads to a self-signed root.
 */
export function loadCertificateAuthority (certPem: string, keyPem: string, parentsPem = ''): CertificateAuthority {
  const [cert, ...rest] = readCertificates(certPem, 'ca certificate')
  if (cert === undefined) {
    throw pkiError('ERR_SPIFFE_PKI_NO_CERTIFICATE', 'ca certificate pem holds no certificate')
  }
  let privateKey: KeyObject
  try {
    privateKey = createPrivateKey(keyPem)
  } catch (err) {
    throw pkiError('ERR_SPIFFE_PKI_BAD_KEY', 'ca private key is not a pem private key', { cause: err })
  }
  if (!cert.checkPrivateKey(privateKey)) {
    throw pkiError('ERR_SPIFFE_PKI_KEY_MISMATCH',
      `private key does not match the public key of ca ${quote(subjectText(cert))}`)
  }
  caPathLength(cert) // refuse a leaf early, with the reason, rather than as an incomplete chain
  const pool = [...rest, ...readCertificates(parentsPem, 'ca parents')].filter((c) => c.fingerprint256 !== cert.fingerprint256)
  const parents: X509Certificate[] = []
  for (let current = cert; !isSelfSigned(current);) {
    const issuer = pool.find((c) => current.checkIssued(c) && current.verify(c.publicKey))
    if (issuer === undefined || parents.includes(issuer)) {
      throw pkiError('ERR_SPIFFE_PKI_CHAIN_INCOMPLETE',
        `no issuer of ${quote(subjectText(current))} among the parent certificates: the chain must reach a self-signed root`)
    }
    parents.push(issuer)
    current = issuer
  }
  return assemble(cert, privateKey, parents)
}

/** Returns the pathLenConstraint of a CA certificate (undefined = none); throws if it is no CA. */
export function caPathLength (cert: X509Certificate): number | undefined {
  const parsed = new x509.X509Certificate(toArrayBuffer(cert.raw))
  const bc = parsed.getExtension(x509.BasicConstraintsExtension)
  const ku = parsed.getExtension(x509.KeyUsagesExtension)
  if (bc?.ca !== true || (ku !== null && (ku.usages & x509.KeyUsageFlags.keyCertSign) === 0)) {
    throw pkiError('ERR_SPIFFE_PKI_NOT_A_CA',
      `certificate ${quote(subjectText(cert))} is not a ca (needs basicConstraints CA:TRUE and keyCertSign)`)
  }
  return bc.pathLength
}

function assemble (cert: X509Certificate, privateKey: KeyObject, parents: readonly X509Certificate[]): CertificateAuthority {
  const chain = [cert, ...parents]
  for (const c of chain) caPathLength(c)
  const root = chain[chain.length - 1] ?? cert
  const pem = (c: X509Certificate): string => toPem('CERTIFICATE', c.raw)
  return {
    cert,
    certPem: pem(cert),
    privateKey,
    keyPem: privateKeyPem(privateKey),
    keyAlgorithm: keyAlgorithmOf(privateKey),
    maxChainLength: caPathLength(cert),
    chain,
    chainPem: chain.slice(0, -1).map(pem).join(''),
    rootPem: pem(root)
  }
}

function caProfile (opts: CaOptions, pathLen: number | undefined): Parameters<typeof issueCertificate>[1] {
  return {
    subject: opts.subject,
    keyAlgorithm: opts.keyAlgorithm ?? DEFAULT_KEY_ALGORITHM,
    ...(opts.privateKey === undefined ? {} : { privateKey: opts.privateKey }),
    isCa: true,
    ...(pathLen === undefined ? {} : { pathLen }),
    keyUsage: ['keyCertSign', 'cRLSign'],
    extKeyUsage: 'omit'
  }
}

function lifetime (opts: CaOptions): number {
  const ms = opts.lifetimeMs ?? DEFAULT_CA_LIFETIME_MS
  if (!Number.isFinite(ms) || ms < 1000) {
    throw pkiError('ERR_SPIFFE_PKI_LIFETIME', `lifetime ${quote(ms)} ms is not at least one second`)
  }
  return ms
}

function checkChainLength (n: number | undefined): void {
  if (n !== undefined && (!Number.isInteger(n) || n < 0)) {
    throw pkiError('ERR_SPIFFE_PKI_BAD_MAX_CHAIN_LENGTH', `max chain length ${quote(n)} is not a non-negative integer`)
  }
}

/** Returns a certificate's subject on one line (`CN=a, O=b`) for messages. */
export function subjectText (cert: X509Certificate): string {
  // node joins RDNs with newlines, and returns undefined for the empty subject despite its types.
  return (cert.subject as string | undefined ?? '').split('\n').join(', ')
}

function isSelfSigned (cert: X509Certificate): boolean {
  return cert.checkIssued(cert) && cert.verify(cert.publicKey)
}

function readCertificates (pem: string, source: string): X509Certificate[] {
  return parsePem(pem, source).filter((b) => b.type === 'CERTIFICATE').map((b) => {
    try {
      return new X509Certificate(b.der)
    } catch (err) {
      throw pkiError('ERR_SPIFFE_PKI_BAD_CERTIFICATE', `${source} holds a certificate that does not parse`, { cause: err, at: source })
    }
  })
}
