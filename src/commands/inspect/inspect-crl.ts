import { X509Certificate } from 'node:crypto'
import { isSpiffeLbError } from '../../internal/errors.ts'
import { parsePem } from '../../internal/pem.ts'
import { colonHex, describeCrl, type CrlDetails } from '../../pki/index.ts'
import { EXIT, type CommandOutput } from '../../process/command-output.ts'
import { formatSpan } from '../../internal/duration.ts'
import { isPem } from '../certificate-file.ts'

// `inspect` of a CRL, PEM ("X509 CRL") or DER, as `openssl crl -text` users expect.

/**
 * Returns the CRL in `bytes`, told apart from certificates by content: a PEM file with an
 * "X509 CRL" block and no certificate, or DER that parses as a CRL and not as a certificate.
 * Returns undefined for anything else (the certificate reader then names what is wrong).
 */
export function crlOf (bytes: Buffer, file: string): CrlDetails | undefined {
  if (isPem(bytes)) {
    const blocks = parsePem(bytes.toString('utf8'), file)
    const crl = blocks.find((b) => b.type === 'X509 CRL')
    return crl === undefined || blocks.some((b) => b.type === 'CERTIFICATE') ? undefined : describeCrl(crl.der, file)
  }
  if (parsesAsCertificate(bytes)) return undefined
  try {
    return describeCrl(bytes, file)
  } catch (err) {
    if (isSpiffeLbError(err)) return undefined
    throw err
  }
}

function parsesAsCertificate (der: Buffer): boolean {
  try {
    return new X509Certificate(der).raw.length > 0
  } catch {
    return false
  }
}

/** Prints `crl` as text or JSON; returns 1 when it is past its nextUpdate (stale) unless `allowExpired`, else 0. */
export function inspectCrl (crl: CrlDetails, opts: { json?: boolean, allowExpired?: boolean }, out: CommandOutput, now: number): number {
  const stale = crl.nextUpdate !== undefined && crl.nextUpdate.getTime() < now
  if (opts.json === true) {
    out.stdout.write(`${JSON.stringify({ crl: { ...crl, stale } }, null, 2)}\n`)
  } else {
    const lines = ['Certificate Revocation List']
    const row = (label: string, value: string): void => { lines.push(`    ${`${label}:`.padEnd(22)}${value}`) }
    row('Issuer', crl.issuer === '' ? '(empty)' : crl.issuer)
    row('Last Update', crl.thisUpdate.toISOString())
    const next = crl.nextUpdate
    row('Next Update', next === undefined
      ? '(none)'
      : `${next.toISOString()} (${stale ? `stale since ${formatSpan(now - next.getTime())}` : `in ${formatSpan(next.getTime() - now)}`})`)
    row('Signature Algorithm', crl.signatureAlgorithm)
    row('Revoked Certificates', crl.revoked.length === 0 ? 'none' : String(crl.revoked.length))
    for (const r of crl.revoked) {
      lines.push(`        Serial Number: ${colonHex(r.serialHex.length % 2 === 1 ? `0${r.serialHex}` : r.serialHex).toLowerCase()}  Revoked: ${r.revokedAt.toISOString()}`)
    }
    row('Fingerprint SHA-256', crl.fingerprintSha256)
    out.stdout.write(`${lines.join('\n')}\n`)
  }
  if (stale) {
    out.stderr.write(`stale: the crl of ${crl.issuer} is past its nextUpdate ${crl.nextUpdate?.toISOString() ?? ''}${opts.allowExpired === true ? '' : ' (--allow-expired exits 0)'}\n`)
  }
  return stale && opts.allowExpired !== true ? EXIT.FAILED : EXIT.OK
}
