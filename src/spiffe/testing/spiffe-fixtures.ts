// Test support only (not a test file): certificates and DER surgery for the src/spiffe tests.
import { X509Certificate, sign, type KeyObject } from 'node:crypto'
import { parsePem, toPem } from '../../internal/pem.ts'
import {
  createRootCa, createSubordinateCa, issueCertificate,
  type CertificateAuthority, type CertificateProfile, type IssuedCertificate
} from '../../pki/index.ts'
import { children, readOne } from '../der.ts'
import { TrustDomain } from '../trust-domain.ts'
import { X509Bundle } from '../x509-bundle.ts'
import { DAY_MS as DAY, HOUR_MS as HOUR } from '../../defaults.ts'

/** The fixed "now" of the tests. */
export const NOW = Date.UTC(2026, 0, 15, 12)
/** Time units of the fixtures (defaults.ts owns them). */
export { DAY, HOUR }

/** A trust domain with its root, an optional intermediate and its bundle. */
export interface Domain {
  td: TrustDomain
  root: CertificateAuthority
  /** The CA that signs leaves: the intermediate when asked for, else the root. */
  issuer: CertificateAuthority
  bundle: X509Bundle
}

/** Returns a fresh domain valid from NOW - 1 day for 30 days. */
export async function domain (name: string, opts: { intermediate?: boolean, rootSubject?: string } = {}): Promise<Domain> {
  const times = { notBefore: NOW - DAY, lifetimeMs: 30 * DAY }
  const root = await createRootCa({ subject: opts.rootSubject ?? `CN=${name} Root`, ...times })
  const issuer = opts.intermediate === true ? await createSubordinateCa(root, { subject: `CN=${name} Intermediate`, ...times }) : root
  const td = TrustDomain.fromString(name)
  return { td, root, issuer, bundle: new X509Bundle(td, [root.cert]) }
}

/** Returns a leaf for `uri` signed by `issuer`, valid NOW ± 1 h, with the SVID profile unless overridden. */
export async function leaf (issuer: CertificateAuthority | 'self', uri: string | readonly string[], profile: CertificateProfile = {}): Promise<IssuedCertificate> {
  return issueCertificate(issuer, {
    uris: typeof uri === 'string' ? [uri] : uri,
    notBefore: NOW - HOUR,
    notAfter: NOW + HOUR,
    ...profile
  })
}

/** Returns a CA certificate built from `profile` (CA defaults) signed by `parent`, usable as an issuer. */
export async function ca (parent: CertificateAuthority | 'self', subject: string, profile: CertificateProfile = {}): Promise<CertificateAuthority> {
  const issued = await issueCertificate(parent, {
    subject, isCa: true, keyUsage: ['keyCertSign', 'cRLSign'], extKeyUsage: 'omit',
    notBefore: NOW - DAY, notAfter: NOW + 30 * DAY, ...profile
  })
  return asIssuer(issued, parent === 'self' ? undefined : parent)
}

/** Wraps any issued certificate (even a non-CA) as an issuer, so tests can sign with it. */
export function asIssuer (issued: IssuedCertificate, parent: CertificateAuthority | undefined): CertificateAuthority {
  const chain = [issued.cert, ...(parent?.chain ?? [])]
  return {
    cert: issued.cert,
    certPem: issued.certPem,
    privateKey: issued.privateKey,
    keyPem: issued.keyPem,
    keyAlgorithm: 'ECDSA_P256',
    maxChainLength: undefined,
    chain,
    chainPem: chain.slice(0, -1).map((c) => toPem('CERTIFICATE', c.raw)).join(''),
    rootPem: toPem('CERTIFICATE', (chain[chain.length - 1] ?? issued.cert).raw)
  }
}

/** Returns the certificates of a PEM text, in order. */
export function certs (pem: string): X509Certificate[] {
  return parsePem(pem).filter((b) => b.type === 'CERTIFICATE').map((b) => new X509Certificate(b.der))
}

/** Returns what a peer would send: the leaf and its issuing CA's intermediates. */
export function presented (issued: IssuedCertificate): X509Certificate[] {
  return certs(issued.chainPem)
}

/** Returns `cert` with the last byte of its signature flipped: parses, but does not verify. */
export function tamper (cert: X509Certificate): X509Certificate {
  const raw = Buffer.from(cert.raw)
  raw[raw.length - 1] = (raw[raw.length - 1] as number) ^ 0x01
  return new X509Certificate(raw)
}

// --- a minimal DER writer, to add extensions pki does not offer and re-sign ---

/** Returns the DER TLV of `tag` around `contents`. */
export function tlv (tag: number, ...contents: Buffer[]): Buffer {
  const body = Buffer.concat(contents)
  const n = body.length
  const len = n < 0x80 ? Buffer.from([n]) : n < 0x100 ? Buffer.from([0x81, n]) : Buffer.from([0x82, n >> 8, n & 0xff])
  return Buffer.concat([Buffer.from([tag]), len, body])
}

/** Returns the DER OBJECT IDENTIFIER of a dotted OID. */
export function oid (dotted: string): Buffer {
  const [a = 0, b = 0, ...rest] = dotted.split('.').map(Number)
  const bytes = [a * 40 + b]
  for (const arc of rest) {
    const enc = [arc & 0x7f]
    for (let v = Math.floor(arc / 128); v > 0; v = Math.floor(v / 128)) enc.unshift((v & 0x7f) | 0x80)
    bytes.push(...enc)
  }
  return tlv(0x06, Buffer.from(bytes))
}

/** An extension to add: `value` is the DER inside extnValue. */
export interface ExtraExtension { oid: string, critical: boolean, value: Buffer }

/**
 * Returns `cert` with `extra` extensions appended to its extension list, re-signed by
 * `signer` (an ECDSA P-256 key, matching the certificate's ecdsa-with-SHA256 algorithm).
 */
export function withExtensions (cert: X509Certificate, signer: KeyObject, extra: readonly ExtraExtension[]): X509Certificate {
  const [tbs, alg] = children(readOne(cert.raw))
  if (tbs === undefined || alg === undefined) throw new Error('not a certificate')
  const fields = children(tbs).map((f) => {
    if (f.cls !== 2 || f.tag !== 3) return f.raw
    const list = children(children(f)[0] as ReturnType<typeof readOne>).map((e) => e.raw)
    for (const e of extra) {
      list.push(tlv(0x30, oid(e.oid), ...(e.critical ? [Buffer.from([0x01, 0x01, 0xff])] : []), tlv(0x04, e.value)))
    }
    return tlv(0xa3, tlv(0x30, ...list))
  })
  const newTbs = tlv(0x30, ...fields)
  const signature = sign('sha256', newTbs, signer)
  return new X509Certificate(tlv(0x30, newTbs, alg.raw, tlv(0x03, Buffer.from([0]), signature)))
}

/** Returns the DER of a NameConstraints value with URI / DNS permitted and excluded subtrees. */
export function nameConstraints (permitted: ReadonlyArray<[kind: 'uri' | 'dns' | 'email', value: string]>,
  excluded: ReadonlyArray<[kind: 'uri' | 'dns' | 'email', value: string]> = []): Buffer {
  const tag = { email: 0x81, dns: 0x82, uri: 0x86 } as const
  const subtrees = (list: typeof permitted): Buffer[] => list.map(([k, v]) => tlv(0x30, tlv(tag[k], Buffer.from(v, 'latin1'))))
  return tlv(0x30,
    ...(permitted.length > 0 ? [tlv(0xa0, ...subtrees(permitted))] : []),
    ...(excluded.length > 0 ? [tlv(0xa1, ...subtrees(excluded))] : []))
}
