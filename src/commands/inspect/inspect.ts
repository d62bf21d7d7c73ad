import type { X509Certificate } from 'node:crypto'
import { systemClock, type Clock } from '../../internal/clock.ts'
import { isSpiffeLbError, quote } from '../../internal/errors.ts'
import { colonHex, describeCertificate, type CertificateDetails } from '../../pki/index.ts'
import { SpiffeId } from '../../spiffe/index.ts'
import { readFileBytes } from '../../process/read-text-file.ts'
import { readChain } from '../certificate-file.ts'
import { formatSpan } from '../../internal/duration.ts'
import { crlOf, inspectCrl } from './inspect-crl.ts'
import type { CommandOutput } from '../../process/command-output.ts'
import { EXIT } from '../../process/command-output.ts'
import { ROTATION_PERCENT } from '../../defaults.ts'
import { nowOption } from '../../process/now-flag.ts'

/**
 * What `inspect` knows about one certificate: its details, whether it is past its notAfter, and
 * for a leaf its SPIFFE identity and timing, or why it is not an X.509-SVID.
 */
export interface InspectedCertificate extends CertificateDetails {
  expired: boolean
  spiffe: { id: string, trustDomain: string, expired: boolean, secondsLeft: number, timeLeft: string, rotationAt: Date } |
    { id: null, reason: string } | undefined
}

function spiffeOf (d: CertificateDetails, now: number): InspectedCertificate['spiffe'] {
  if (d.basicConstraints?.ca === true) return undefined
  const uris = d.subjectAltName?.uris ?? []
  if (uris.length === 0) return { id: null, reason: 'not a SPIFFE certificate: it has no URI SAN' }
  if (uris.length > 1) return { id: null, reason: `not an X.509-SVID: ${uris.length} URI SANs (an X.509-SVID has exactly one)` }
  const uri = uris[0] ?? ''
  if (!uri.toLowerCase().startsWith('spiffe://')) return { id: null, reason: `not a SPIFFE certificate: its URI SAN ${quote(uri)} is not a spiffe:// ID` }
  let id: SpiffeId
  try {
    id = SpiffeId.fromString(uri)
  } catch (err) {
    if (!isSpiffeLbError(err)) throw err
    return { id: null, reason: `not an X.509-SVID: ${err.message}` }
  }
  const left = d.notAfter.getTime() - now
  const span = d.notAfter.getTime() - d.notBefore.getTime()
  return {
    id: id.toString(),
    trustDomain: id.trustDomain.name,
    expired: left < 0,
    secondsLeft: Math.floor(left / 1000),
    timeLeft: left < 0 ? `expired ${formatSpan(left)} ago` : `${formatSpan(left)} left`,
    rotationAt: new Date(d.notBefore.getTime() + Math.floor(span * ROTATION_PERCENT / 100 / 1000) * 1000)
  }
}

/** Returns every certificate of `chain` inspected at `now`. */
export function inspectCertificates (chain: readonly X509Certificate[], now: number): InspectedCertificate[] {
  return chain.map((cert) => {
    const details = describeCertificate(cert)
    return { ...details, expired: details.notAfter.getTime() < now, spiffe: spiffeOf(details, now) }
  })
}

/** Returns every certificate in `pem` inspected at `now`. Throws `ERR_SPIFFE_CLI_*` / `ERR_SPIFFE_PEM_*` naming `source`. */
export function inspectPem (pem: string, source: string, now: number): InspectedCertificate[] {
  return inspectCertificates(readChain(pem, source), now)
}

const CURVES: Readonly<Record<string, string>> = { prime256v1: 'P-256', secp384r1: 'P-384', secp521r1: 'P-521' }
const KU_TEXT: Readonly<Record<string, string>> = {
  digitalSignature: 'Digital Signature', nonRepudiation: 'Non Repudiation', keyEncipherment: 'Key Encipherment',
  dataEncipherment: 'Data Encipherment', keyAgreement: 'Key Agreement', keyCertSign: 'Certificate Sign',
  cRLSign: 'CRL Sign', encipherOnly: 'Encipher Only', decipherOnly: 'Decipher Only'
}
const EKU_TEXT: Readonly<Record<string, string>> = {
  serverAuth: 'TLS Web Server Authentication', clientAuth: 'TLS Web Client Authentication', codeSigning: 'Code Signing',
  emailProtection: 'E-mail Protection', timeStamping: 'Time Stamping', ocspSigning: 'OCSP Signing', anyExtendedKeyUsage: 'Any Extended Key Usage'
}

/** Returns one certificate as text in the spirit of `openssl x509 -text`, plus the SPIFFE view. */
export function renderText (c: InspectedCertificate, index: number, total: number, now: number): string {
  const lines = [`Certificate ${index + 1} of ${total}${c.basicConstraints?.ca === true ? ' (CA)' : ''}`]
  const row = (label: string, value: string): void => { lines.push(`    ${`${label}:`.padEnd(22)}${value}`) }
  const ext = (name: string, critical: boolean, values: string[]): void => {
    lines.push(`        ${name}:${critical ? ' critical' : ''}`, ...values.map((v) => `            ${v}`))
  }
  row('Subject', c.subject === '' ? '(empty)' : c.subject)
  row('Issuer', c.issuer === '' ? '(empty)' : c.issuer)
  row('Serial Number', colonHex(c.serialHex.length % 2 === 1 ? `0${c.serialHex}` : c.serialHex).toLowerCase())
  row('Not Before', c.notBefore.toISOString())
  row('Not After', `${c.notAfter.toISOString()}${c.expired ? ` (expired ${formatSpan(now - c.notAfter.getTime())} ago)` : ''}`)
  row('Signature Algorithm', c.signatureAlgorithm)
  const key = c.publicKey.curve === undefined ? `${c.publicKey.type.toUpperCase()} ${c.publicKey.bits ?? '?'} bit` : `EC ${CURVES[c.publicKey.curve] ?? c.publicKey.curve} (${c.publicKey.bits ?? '?'} bit)`
  row('Public Key', `${key}${c.keyAlgorithm === undefined ? '' : ` [${c.keyAlgorithm}]`}`)
  lines.push('    X509v3 extensions:')
  const san = c.subjectAltName
  if (san !== undefined) {
    ext('Subject Alternative Name', san.critical, [[...san.uris.map((u) => `URI:${u}`), ...san.dnsNames.map((d) => `DNS:${d}`),
      ...san.ipAddresses.map((a) => `IP Address:${a}`), ...san.emails.map((e) => `email:${e}`), ...san.other].join(', ')])
  }
  const bc = c.basicConstraints
  if (bc !== undefined) ext('Basic Constraints', bc.critical, [`CA:${bc.ca ? 'TRUE' : 'FALSE'}${bc.pathLen === undefined ? '' : `, pathlen:${bc.pathLen}`}`])
  if (c.keyUsage !== undefined) ext('Key Usage', c.keyUsage.critical, [c.keyUsage.usages.map((u) => KU_TEXT[u] ?? u).join(', ')])
  if (c.extKeyUsage !== undefined) ext('Extended Key Usage', c.extKeyUsage.critical, [c.extKeyUsage.usages.map((u) => EKU_TEXT[u] ?? u).join(', ')])
  if (c.subjectKeyIdentifier !== undefined) ext('Subject Key Identifier', false, [c.subjectKeyIdentifier])
  if (c.authorityKeyIdentifier !== undefined) ext('Authority Key Identifier', false, [c.authorityKeyIdentifier])
  for (const o of c.otherExtensions) ext(o.name ?? o.oid, o.critical, o.values.length > 0 ? o.values : [o.name === undefined ? '(unknown extension, not decoded)' : '(not decoded)'])
  row('Fingerprint SHA-256', c.fingerprintSha256)
  const s = c.spiffe
  if (s !== undefined) {
    lines.push('    SPIFFE:')
    if (s.id === null) {
      row('  SPIFFE ID', `none (${s.reason})`)
    } else {
      row('  SPIFFE ID', s.id)
      row('  Trust Domain', s.trustDomain)
      row('  Expiry', s.timeLeft)
      const due = s.rotationAt.getTime() - now
      row(`  Rotation (${ROTATION_PERCENT}%)`, `${s.rotationAt.toISOString()} (${due > 0 ? `in ${formatSpan(due)}` : `due since ${formatSpan(due)}`})`)
    }
  }
  return lines.join('\n') + '\n'
}

/** Options of `inspect`. */
export interface InspectOptions { file: string, json?: boolean, now?: string, allowExpired?: boolean }

/**
 * `inspect FILE`: prints every certificate of a PEM or DER file, or a CRL, as text or `--json`.
 * Returns 0, or 1 when a certificate is expired or a CRL is past its nextUpdate (the reason on
 * stderr) unless `allowExpired`.
 */
export async function runInspect (opts: InspectOptions, out: CommandOutput, clock: Clock = systemClock): Promise<number> {
  const now = nowOption(opts.now, clock)
  const bytes = await readFileBytes(opts.file, 'certificate or crl file')
  const crl = crlOf(bytes, opts.file)
  if (crl !== undefined) return inspectCrl(crl, opts, out, now)
  const certs = inspectCertificates(readChain(bytes, opts.file), now)
  if (opts.json === true) {
    out.stdout.write(JSON.stringify(certs, null, 2) + '\n')
  } else {
    out.stdout.write(certs.map((c, i) => renderText(c, i, certs.length, now)).join('\n'))
  }
  const expired = certs.flatMap((c, i) => c.expired ? [{ c, i }] : [])
  for (const { c, i } of expired) {
    const who = c.spiffe?.id ?? (c.subject === '' ? 'empty subject' : c.subject)
    out.stderr.write(`expired: certificate ${i + 1} of ${certs.length} (${who}) expired ${formatSpan(now - c.notAfter.getTime())} ago, at ${c.notAfter.toISOString()}${opts.allowExpired === true ? '' : ' (--allow-expired exits 0)'}\n`)
  }
  return expired.length > 0 && opts.allowExpired !== true ? EXIT.FAILED : EXIT.OK
}
