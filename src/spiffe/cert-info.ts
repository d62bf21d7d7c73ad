import type { X509Certificate } from 'node:crypto'
import { SpiffeLbError, isSpiffeLbError, quote } from '../internal/errors.ts'
import {
  Tag, children, expect, isContext, isUniversal, readBits, readBoolean, readOid, readOne,
  readSmallInteger, type DerElement
} from './der.ts'
import { readGeneralName, type GeneralName } from './general-name.ts'
import { HANDLED, OID } from './oids.ts'
import { spiffeError, type SpiffeErrorCode } from './errors.ts'

export { OID } from './oids.ts'

/** RFC 5280 §4.2.1.3 key usage bits; `present` is false when the extension is absent. */
export interface KeyUsageInfo {
  readonly present: boolean
  readonly critical: boolean
  readonly digitalSignature: boolean
  readonly contentCommitment: boolean
  readonly keyEncipherment: boolean
  readonly dataEncipherment: boolean
  readonly keyAgreement: boolean
  readonly keyCertSign: boolean
  readonly cRLSign: boolean
  readonly encipherOnly: boolean
  readonly decipherOnly: boolean
}

/**
 * What spiffe-lb needs from a certificate's extensions, read from its DER. Node's
 * X509Certificate has no key usage bits, and its `subjectAltName` string escapes commas
 * ambiguously, so security decisions use this instead.
 */
export interface CertInfo {
  /** 1, 2 or 3. */
  readonly version: number
  /** DER of the subject and issuer Names, for exact name comparison. */
  readonly subjectDer: Buffer
  readonly issuerDer: Buffer
  /** True when the subject Name has no RDNs (then the SAN must be critical, RFC 5280 §4.1.2.6). */
  readonly subjectEmpty: boolean
  /** True when subject and issuer Names are byte-identical (RFC 5280 "self-issued"). */
  readonly selfIssued: boolean
  /** RFC 5280 §4.2.1.6. `names` lists every SAN in order; `otherCount` counts non-URI ones. */
  readonly san: {
    readonly present: boolean
    readonly critical: boolean
    readonly uris: readonly string[]
    readonly dnsNames: readonly string[]
    readonly names: readonly GeneralName[]
    readonly otherCount: number
  }
  /** RFC 5280 §4.2.1.9; `ca` is false and `pathLen` undefined when absent. */
  readonly basicConstraints: {
    readonly present: boolean
    readonly critical: boolean
    readonly ca: boolean
    readonly pathLen: number | undefined
  }
  readonly keyUsage: KeyUsageInfo
  /** RFC 5280 §4.2.1.12 purpose OIDs, or undefined when the extension is absent. */
  readonly extKeyUsage: readonly string[] | undefined
  /** RFC 5280 §4.2.1.10. */
  readonly nameConstraints: {
    readonly present: boolean
    readonly critical: boolean
    readonly permitted: readonly GeneralName[]
    readonly excluded: readonly GeneralName[]
  }
  /** OIDs of critical extensions this module does not process (RFC 5280 §6.1.4(o): reject). */
  readonly unhandledCriticalExtensions: readonly string[]
}

const KEY_USAGE_BITS = ['digitalSignature', 'contentCommitment', 'keyEncipherment', 'dataEncipherment',
  'keyAgreement', 'keyCertSign', 'cRLSign', 'encipherOnly', 'decipherOnly'] as const

const cache = new WeakMap<X509Certificate, CertInfo | SpiffeLbError>()

/**
 * Returns the parsed extensions of `cert`. The DER is parsed once per certificate object
 * and cached (errors too), so per-handshake checks cost a map lookup.
 * Throws `ERR_SPIFFE_CERT_MALFORMED` or `ERR_SPIFFE_CERT_DUPLICATE_EXTENSION`.
 */
export function certInfo (cert: X509Certificate): CertInfo {
  let entry = cache.get(cert)
  if (entry === undefined) {
    try {
      entry = parseCertInfo(cert.raw)
    } catch (err) {
      entry = isSpiffeLbError(err, 'ERR_SPIFFE_CERT_DUPLICATE_EXTENSION' satisfies SpiffeErrorCode)
        ? err
        : spiffeError('ERR_SPIFFE_CERT_MALFORMED',
          `certificate ${quote(certLabel(cert))} cannot be parsed: ${(err as Error).message}`, { cause: err })
    }
    cache.set(cert, entry)
  }
  if (entry instanceof SpiffeLbError) throw entry
  return entry
}

/** Parses a DER certificate; exported for tests with hand-made DER. */
export function parseCertInfo (der: Buffer): CertInfo {
  const [tbs] = children(expect(readOne(der), Tag.SEQUENCE, 'a certificate sequence'))
  const fields = children(expect(tbs, Tag.SEQUENCE, 'a tbsCertificate sequence'))
  let i = 0
  let version = 1
  const first = fields[0]
  if (isContext(first, 0)) {
    version = readSmallInteger(children(first)[0] as DerElement) + 1
    i = 1
  }
  // serialNumber, signature, issuer, validity, subject, subjectPublicKeyInfo
  const issuer = expect(fields[i + 2], Tag.SEQUENCE, 'an issuer name')
  const subject = expect(fields[i + 4], Tag.SEQUENCE, 'a subject name')
  const extensions = fields.slice(i + 6).find((el) => isContext(el, 3))
  const info = {
    version,
    subjectDer: subject.raw,
    issuerDer: issuer.raw,
    subjectEmpty: subject.value.length === 0,
    selfIssued: subject.raw.equals(issuer.raw),
    san: { present: false, critical: false, uris: [] as string[], dnsNames: [] as string[], names: [] as GeneralName[], otherCount: 0 },
    basicConstraints: { present: false, critical: false, ca: false, pathLen: undefined as number | undefined },
    keyUsage: Object.fromEntries([['present', false], ['critical', false], ...KEY_USAGE_BITS.map((b) => [b, false])]) as unknown as KeyUsageInfo,
    extKeyUsage: undefined as string[] | undefined,
    nameConstraints: { present: false, critical: false, permitted: [] as GeneralName[], excluded: [] as GeneralName[] },
    unhandledCriticalExtensions: [] as string[]
  }
  if (extensions === undefined) return info
  const seen = new Set<string>()
  for (const ext of children(expect(children(extensions)[0], Tag.SEQUENCE, 'an extensions sequence'))) {
    const parts = children(expect(ext, Tag.SEQUENCE, 'an extension'))
    if (parts.length < 2 || parts.length > 3) throw spiffeError('ERR_SPIFFE_CERT_MALFORMED', 'an extension must have 2 or 3 fields')
    const oid = readOid(parts[0] as DerElement)
    const critical = isUniversal(parts[1], Tag.BOOLEAN) ? readBoolean(parts[1]) : false
    const octets = expect(parts[parts.length - 1], Tag.OCTET_STRING, 'an extension value').value
    if (seen.has(oid)) {
      // RFC 5280 §4.2: "A certificate MUST NOT include more than one instance of a particular extension."
      throw spiffeError('ERR_SPIFFE_CERT_DUPLICATE_EXTENSION' satisfies SpiffeErrorCode,
        `certificate has more than one extension ${quote(oid)} (rfc 5280 section 4.2 forbids it)`)
    }
    seen.add(oid)
    if (critical && !HANDLED.has(oid)) info.unhandledCriticalExtensions.push(oid)
    // Only the extensions we apply are decoded: a private extension's contents are not our business.
    const value = (): DerElement => readOne(octets)
    switch (oid) {
      case OID.subjectAltName: {
        const names = children(expect(value(), Tag.SEQUENCE, 'a subjectAltName sequence')).map(readGeneralName)
        info.san = {
          present: true,
          critical,
          uris: names.filter((n) => n.kind === 'uri').map((n) => n.value),
          dnsNames: names.filter((n) => n.kind === 'dns').map((n) => n.value),
          names,
          otherCount: names.filter((n) => n.kind !== 'uri').length
        }
        break
      }
      case OID.basicConstraints: {
        const [a, b] = children(expect(value(), Tag.SEQUENCE, 'a basicConstraints sequence'))
        const ca = isUniversal(a, Tag.BOOLEAN) ? readBoolean(a) : false
        const lenEl = isUniversal(a, Tag.INTEGER) ? a : b
        info.basicConstraints = { present: true, critical, ca, pathLen: lenEl === undefined ? undefined : readSmallInteger(lenEl) }
        break
      }
      case OID.keyUsage: {
        const bits = readBits(value())
        info.keyUsage = Object.fromEntries([['present', true], ['critical', critical],
          ...KEY_USAGE_BITS.map((name, n) => [name, bits[n] === true])]) as unknown as KeyUsageInfo
        break
      }
      case OID.extKeyUsage:
        info.extKeyUsage = children(expect(value(), Tag.SEQUENCE, 'an extKeyUsage sequence')).map(readOid)
        break
      case OID.nameConstraints: {
        const subtrees = (n: number): GeneralName[] => {
          const el = children(expect(value(), Tag.SEQUENCE, 'a nameConstraints sequence')).find((c) => isContext(c, n))
          return el === undefined ? [] : children(el).map((st) => readGeneralName(children(st)[0] as DerElement))
        }
        info.nameConstraints = { present: true, critical, permitted: subtrees(0), excluded: subtrees(1) }
        break
      }
    }
  }
  return info
}

/**
 * Returns a short human name for `cert` for messages: its subject, or its serial when the
 * subject is empty (node reports an empty subject as undefined).
 */
export function certLabel (cert: X509Certificate): string {
  const subject = cert.subject as string | undefined
  return subject === undefined || subject === '' ? `serial ${cert.serialNumber.toLowerCase()}` : subject.replaceAll('\n', ', ')
}
