import { createHash } from 'node:crypto'
import { quote } from '../internal/errors.ts'
import { colonHex, signatureName } from './certificate-details.ts'
import { toArrayBuffer } from './sign.ts'
import { x509, type X509 } from './x509.ts'
import { pkiError } from './errors.ts'

/** What `openssl crl -text` shows about a CRL (RFC 5280 §5), as data; for display, not for decisions. */
export interface CrlDetails {
  issuer: string
  thisUpdate: Date
  nextUpdate: Date | undefined
  /** openssl's name: `ecdsa-with-SHA256`, `sha256WithRSAEncryption`… */
  signatureAlgorithm: string
  /** Each revoked certificate: lowercase hex serial and revocation time. */
  revoked: Array<{ serialHex: string, revokedAt: Date }>
  /** SHA-256 of the DER, colon-separated uppercase hex. */
  fingerprintSha256: string
}

/** Returns the details of the DER CRL `der`; throws `ERR_SPIFFE_PKI_CRL_INVALID` naming `source` when it does not parse. */
export function describeCrl (der: Uint8Array, source: string): CrlDetails {
  let crl: X509.X509Crl
  try {
    crl = new x509.X509Crl(toArrayBuffer(der))
  } catch (err) {
    throw pkiError('ERR_SPIFFE_PKI_CRL_INVALID', `${quote(source)} is not an x.509 crl`, { at: source, cause: err })
  }
  return {
    issuer: crl.issuer,
    thisUpdate: crl.thisUpdate,
    nextUpdate: crl.nextUpdate,
    signatureAlgorithm: signatureName(crl),
    revoked: crl.entries.map((e) => ({ serialHex: e.serialNumber.toLowerCase(), revokedAt: e.revocationDate })),
    fingerprintSha256: colonHex(createHash('sha256').update(der).digest('hex'))
  }
}
