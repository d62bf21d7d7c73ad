// Test support only: an independent, minimal DER walk over a certificate's extensions, so the
// pki tests check what was encoded without trusting the library that encoded it.
import type { X509Certificate } from 'node:crypto'

/** One extension as encoded: OID, critical flag and the DER of its extnValue contents. */
export interface RawExtension { oid: string, critical: boolean, value: Buffer }

interface Tlv { tag: number, value: Buffer, next: number }

function tlv (buf: Buffer, at: number): Tlv {
  const tag = buf[at] as number
  let len = buf[at + 1] as number
  let pos = at + 2
  if (len & 0x80) {
    const n = len & 0x7f
    len = 0
    for (let i = 0; i < n; i++) len = len * 256 + (buf[pos++] as number)
  }
  return { tag, value: buf.subarray(pos, pos + len), next: pos + len }
}

/** Returns the elements of a constructed value. */
export function children (value: Buffer): Tlv[] {
  const out: Tlv[] = []
  for (let at = 0; at < value.length;) { const t = tlv(value, at); out.push(t); at = t.next }
  return out
}

/** Returns a dotted OID from its contents octets. */
export function oidString (v: Buffer): string {
  const first = v[0] as number
  const parts = [Math.floor(first / 40), first % 40]
  let n = 0
  for (const b of v.subarray(1)) { n = n * 128 + (b & 0x7f); if ((b & 0x80) === 0) { parts.push(n); n = 0 } }
  return parts.join('.')
}

/** Returns the extensions of `cert` keyed by OID. */
export function rawExtensions (cert: X509Certificate): Map<string, RawExtension> {
  const tbs = children(tlv(cert.raw, 0).value)[0]
  const out = new Map<string, RawExtension>()
  const wrapper = children(tbs?.value ?? Buffer.alloc(0)).find((e) => e.tag === 0xa3) // [3] EXPLICIT
  if (wrapper === undefined) return out
  for (const ext of children(children(wrapper.value)[0]?.value ?? Buffer.alloc(0))) {
    const [id, second, third] = children(ext.value)
    const critical = second?.tag === 0x01 && second.value[0] !== 0
    const value = (second?.tag === 0x04 ? second : third)?.value ?? Buffer.alloc(0)
    const oid = oidString(id?.value ?? Buffer.alloc(0))
    out.set(oid, { oid, critical, value })
  }
  return out
}

/** Key usage bit names in bit order (RFC 5280 4.2.1.3). */
const KU = ['digitalSignature', 'nonRepudiation', 'keyEncipherment', 'dataEncipherment', 'keyAgreement', 'keyCertSign', 'cRLSign', 'encipherOnly', 'decipherOnly']

/** Returns the key usage names set in a keyUsage extension value (BIT STRING). */
export function keyUsageNames (value: Buffer): string[] {
  const bits = tlv(value, 0).value.subarray(1)
  return KU.filter((_, i) => (((bits[i >> 3] ?? 0) >> (7 - (i & 7))) & 1) === 1)
}

/** Returns `{ ca, pathLen }` from a basicConstraints extension value. */
export function basicConstraints (value: Buffer): { ca: boolean, pathLen: number | undefined } {
  let ca = false
  let pathLen: number | undefined
  for (const e of children(tlv(value, 0).value)) {
    if (e.tag === 0x01) ca = e.value[0] !== 0
    if (e.tag === 0x02) pathLen = e.value.reduce((n, b) => n * 256 + b, 0)
  }
  return { ca, pathLen }
}

/** Returns the contents of an OCTET STRING (SKI) or the [0] keyIdentifier of an AKI, as hex. */
export function keyId (value: Buffer, aki = false): string {
  const outer = tlv(value, 0)
  return (aki ? children(outer.value).find((e) => e.tag === 0x80)?.value : outer.value)?.toString('hex') ?? ''
}

/** Well-known extension OIDs. */
export const OID = {
  basicConstraints: '2.5.29.19',
  keyUsage: '2.5.29.15',
  extKeyUsage: '2.5.29.37',
  subjectAltName: '2.5.29.17',
  subjectKeyIdentifier: '2.5.29.14',
  authorityKeyIdentifier: '2.5.29.35'
} as const
