import { X509Certificate } from 'node:crypto'
import { quote } from '../internal/errors.ts'
import { parsePem, toPem } from '../internal/pem.ts'
import type { CertificateAuthority } from './ca-types.ts'
import { keyAlgorithmOf, signatureParams, toSigningKey } from './key-algorithm.ts'
import { toArrayBuffer, toSeconds } from './sign.ts'
import { x509, type X509 } from './x509.ts'
import { pkiError } from './errors.ts'

/** One revoked certificate: its serial (hex) and when it was revoked (ms since the epoch). */
export interface RevokedEntry { serialHex: string, revokedAt: number }

/** A CRL parsed and bound to the CA certificate whose key verified its signature. */
export interface VerifiedCrl {
  issuer: X509Certificate
  revokedSerials: string[]
  thisUpdate: number
  nextUpdate: number | undefined
}

type CrlParams = Parameters<typeof x509.X509CrlGenerator.create>[0]

/**
 * Returns a CRL (RFC 5280 §5, PEM "X509 CRL") signed by `ca` listing `revoked`, valid from
 * `thisUpdate` to `nextUpdate`. @peculiar/x509's generator is used because node:crypto has no
 * CRL support; it signs through node's own WebCrypto.
 */
export async function createCrl (ca: CertificateAuthority, revoked: readonly RevokedEntry[], thisUpdate: number, nextUpdate: number): Promise<string> {
  const issuer = new x509.X509Certificate(toArrayBuffer(ca.cert.raw))
  const crl = await x509.X509CrlGenerator.create({
    issuer: issuer.subjectName,
    thisUpdate: new Date(toSeconds(thisUpdate)),
    nextUpdate: new Date(toSeconds(nextUpdate)),
    entries: revoked.map((r) => ({ serialNumber: r.serialHex, revocationDate: new Date(toSeconds(r.revokedAt)) })),
    signingKey: toSigningKey(ca.privateKey) as unknown as CrlParams['signingKey'],
    signingAlgorithm: signatureParams(keyAlgorithmOf(ca.privateKey)) as CrlParams['signingAlgorithm']
  })
  return toPem('X509 CRL', Buffer.from(crl.rawData))
}

/**
 * Returns the CRL in `text` (PEM "X509 CRL" or DER) bound to the one of `candidates` whose name
 * is the CRL's issuer and whose key verifies its signature (@peculiar/x509: node:crypto cannot
 * parse or verify a CRL). Throws `ERR_SPIFFE_PKI_CRL_INVALID` when it does not parse, and
 * `ERR_SPIFFE_PKI_CRL_UNVERIFIED` when no candidate signed it: an unverified CRL is never used.
 */
export async function loadCrl (text: Buffer | string, source: string, candidates: readonly X509Certificate[]): Promise<VerifiedCrl> {
  let crl: X509.X509Crl
  try {
    const s = typeof text === 'string' ? text : text.toString('latin1')
    const der = s.includes('-----BEGIN') ? parsePem(s, source).find((b) => b.type === 'X509 CRL')?.der : Buffer.from(text)
    if (der === undefined) throw pkiError('ERR_SPIFFE_PKI_CRL_INVALID', 'no pem "X509 CRL" block')
    crl = new x509.X509Crl(toArrayBuffer(der))
  } catch (err) {
    throw pkiError('ERR_SPIFFE_PKI_CRL_INVALID', `${quote(source)} is not an x.509 crl: ${err instanceof Error ? err.message : String(err)}`, { at: source, cause: err })
  }
  for (const cert of candidates) {
    const parsed = new x509.X509Certificate(toArrayBuffer(cert.raw))
    if (parsed.subject !== crl.issuer) continue
    let ok = false
    try { ok = await crl.verify({ publicKey: parsed }) } catch { ok = false }
    if (!ok) continue
    return {
      issuer: cert,
      revokedSerials: crl.entries.map((e) => e.serialNumber),
      thisUpdate: crl.thisUpdate.getTime(),
      nextUpdate: crl.nextUpdate?.getTime()
    }
  }
  throw pkiError('ERR_SPIFFE_PKI_CRL_UNVERIFIED',
    `crl ${quote(source)} of issuer ${quote(crl.issuer)} is not signed by any trusted ca certificate given`, { at: source })
}
