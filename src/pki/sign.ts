import { X509Certificate, createPublicKey, type KeyObject } from 'node:crypto'
import { toPem } from '../internal/pem.ts'
import { keyAlgorithmOf, signatureParams, toSigningKey } from './key-algorithm.ts'
import { x509, type X509 } from './x509.ts'

/** Who signs: the issuer's subject (encoded exactly as in its certificate) and its key. */
export interface Signer {
  name: X509.Name
  privateKey: KeyObject
  /** The issuer's subject key identifier (hex) for the authority key identifier extension. */
  keyId: string
}

/** Everything that goes into one certificate; the caller has already decided every field. */
export interface SignRequest {
  subject: X509.Name
  publicKey: KeyObject
  serialHex: string
  notBefore: number
  notAfter: number
  extensions: X509.Extension[]
}

/** Returns the DER SubjectPublicKeyInfo of a public or private key. */
export function spkiDer (key: KeyObject): Buffer {
  const pub = key.type === 'private' ? createPublicKey(key) : key
  return pub.export({ type: 'spki', format: 'der' })
}

/** Returns the RFC 5280 method-1 key identifier (SHA-1 of the public key bits) as hex. */
export async function keyIdentifier (key: KeyObject): Promise<string> {
  const ext = await x509.SubjectKeyIdentifierExtension.create(toArrayBuffer(spkiDer(key)))
  return ext.keyId
}

/** Returns a signer for a certificate holder's own key: used for self-signed certificates. */
export async function selfSigner (subject: X509.Name, privateKey: KeyObject): Promise<Signer> {
  return { name: subject, privateKey, keyId: await keyIdentifier(privateKey) }
}

/** Returns a signer for a CA certificate and its private key. */
export async function caSigner (cert: X509Certificate, privateKey: KeyObject): Promise<Signer> {
  const parsed = new x509.X509Certificate(toArrayBuffer(cert.raw))
  // Reuse the issuer's SKI verbatim so AKI matches even if it was computed another way.
  const ski = parsed.getExtension(x509.SubjectKeyIdentifierExtension)
  return { name: parsed.subjectName, privateKey, keyId: ski?.keyId ?? await keyIdentifier(cert.publicKey) }
}

// node's webcrypto types and the DOM types the library declares differ only on paper.
type WithKeyParams = Extract<Parameters<typeof x509.X509CertificateGenerator.create>[0], { signingKey: unknown }>

/** Signs `req` with `signer` and returns the certificate as a node X509Certificate and PEM. */
export async function signCertificate (signer: Signer, req: SignRequest): Promise<{ cert: X509Certificate, certPem: string }> {
  const alg = keyAlgorithmOf(signer.privateKey)
  const generated = await x509.X509CertificateGenerator.create({
    serialNumber: req.serialHex,
    subject: req.subject,
    issuer: signer.name,
    notBefore: new Date(req.notBefore),
    notAfter: new Date(req.notAfter),
    publicKey: toArrayBuffer(spkiDer(req.publicKey)),
    signingKey: toSigningKey(signer.privateKey) as unknown as WithKeyParams['signingKey'],
    signingAlgorithm: signatureParams(alg) as WithKeyParams['signingAlgorithm'],
    extensions: req.extensions
  })
  const der = Buffer.from(generated.rawData)
  return { cert: new X509Certificate(der), certPem: toPem('CERTIFICATE', der) }
}

/** Returns a copy of `buf`'s bytes as a standalone ArrayBuffer (the library wants BufferSource). */
export function toArrayBuffer (buf: Uint8Array): ArrayBuffer {
  return buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer
}

/** X.509 times have whole seconds; rounding down keeps notBefore from lying in the future. */
export function toSeconds (ms: number): number {
  return Math.floor(ms / 1000) * 1000
}
