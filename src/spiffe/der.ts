import { SpiffeLbError } from '../internal/errors.ts'
import { spiffeError } from './errors.ts'

/**
 * A minimal, strict DER (X.690) reader: just enough to walk the X.509 extensions that
 * node:crypto does not expose (key usage bits, SAN criticality, name constraints).
 * It never copies: every element is a view into the certificate's own bytes.
 */
export interface DerElement {
  /** Tag class: 0 universal, 1 application, 2 context-specific, 3 private. */
  readonly cls: number
  readonly constructed: boolean
  /** Tag number (low-tag form only; X.509 never uses high tag numbers). */
  readonly tag: number
  /** The whole TLV. */
  readonly raw: Buffer
  /** The contents octets. */
  readonly value: Buffer
}

/** Universal tag numbers used by the X.509 readers. */
export const Tag = {
  BOOLEAN: 1,
  INTEGER: 2,
  BIT_STRING: 3,
  OCTET_STRING: 4,
  OID: 6,
  SEQUENCE: 16
} as const

function malformed (what: string): SpiffeLbError {
  return spiffeError('ERR_SPIFFE_DER_MALFORMED', `der encoding is malformed: ${what}`)
}

/** Reads the element starting at `offset`; returns it and the offset just after it. */
export function readElement (buf: Buffer, offset = 0): { element: DerElement, next: number } {
  if (offset + 2 > buf.length) throw malformed('truncated header')
  const first = buf[offset] as number
  if ((first & 0x1f) === 0x1f) throw malformed('high tag numbers are not supported')
  let pos = offset + 1
  let len = buf[pos++] as number
  if (len === 0x80) throw malformed('indefinite length is not allowed in der')
  if (len > 0x80) {
    const n = len & 0x7f
    // 4 length octets (4 GiB) is far beyond any certificate; refusing more keeps the math exact.
    if (n > 4 || pos + n > buf.length) throw malformed('bad long-form length')
    if (buf[pos] === 0) throw malformed('length has leading zero octets')
    len = 0
    for (let i = 0; i < n; i++) len = len * 256 + (buf[pos++] as number)
    if (len < 0x80) throw malformed('long-form length used for a short length')
  }
  const end = pos + len
  if (end > buf.length) throw malformed('element runs past the end of its container')
  return {
    element: {
      cls: first >> 6,
      constructed: (first & 0x20) !== 0,
      tag: first & 0x1f,
      raw: buf.subarray(offset, end),
      value: buf.subarray(pos, end)
    },
    next: end
  }
}

/** Parses `buf` as exactly one element (no trailing bytes). */
export function readOne (buf: Buffer): DerElement {
  const { element, next } = readElement(buf, 0)
  if (next !== buf.length) throw malformed('trailing bytes after element')
  return element
}

/** Returns the children of a constructed element, in order. */
export function children (el: DerElement): DerElement[] {
  if (!el.constructed) throw malformed(`expected a constructed element, got tag ${el.tag}`)
  const out: DerElement[] = []
  let pos = 0
  while (pos < el.value.length) {
    const { element, next } = readElement(el.value, pos)
    out.push(element)
    pos = next
  }
  return out
}

/** Returns true when `el` has the given universal tag. */
export function isUniversal (el: DerElement | undefined, tag: number): el is DerElement {
  return el !== undefined && el.cls === 0 && el.tag === tag
}

/** Returns true when `el` is context-specific `[n]`. */
export function isContext (el: DerElement | undefined, n: number): el is DerElement {
  return el !== undefined && el.cls === 2 && el.tag === n
}

/** Returns `el` if it is a universal element with `tag`; throws otherwise. */
export function expect (el: DerElement | undefined, tag: number, what: string): DerElement {
  if (!isUniversal(el, tag)) throw malformed(`expected ${what}`)
  return el
}

/** Decodes an OBJECT IDENTIFIER to dotted form. */
export function readOid (el: DerElement): string {
  const v = expect(el, Tag.OID, 'an object identifier').value
  if (v.length === 0 || (v[v.length - 1] as number) & 0x80) throw malformed('bad object identifier')
  const arcs: number[] = []
  let acc = 0
  for (const byte of v) {
    if (acc === 0 && byte === 0x80) throw malformed('object identifier arc has leading zero')
    acc = acc * 128 + (byte & 0x7f)
    if (acc > Number.MAX_SAFE_INTEGER / 128) throw malformed('object identifier arc too large')
    if ((byte & 0x80) === 0) { arcs.push(acc); acc = 0 }
  }
  const head = arcs.shift() as number
  const a = head < 80 ? Math.floor(head / 40) : 2
  return [a, head - a * 40, ...arcs].join('.')
}

/** Decodes a DER BOOLEAN (0x00 or 0xff only). */
export function readBoolean (el: DerElement): boolean {
  const v = expect(el, Tag.BOOLEAN, 'a boolean').value
  if (v.length !== 1 || (v[0] !== 0 && v[0] !== 0xff)) throw malformed('bad boolean')
  return v[0] === 0xff
}

/** Decodes a small non-negative INTEGER (up to 2^48). */
export function readSmallInteger (el: DerElement): number {
  const v = expect(el, Tag.INTEGER, 'an integer').value
  if (v.length === 0 || v.length > 6 || ((v[0] as number) & 0x80) !== 0) {
    throw malformed('integer is empty, negative or too large')
  }
  return v.readUIntBE(0, v.length)
}

/**
 * Decodes a BIT STRING into an array of bit values, bit 0 first (the X.509 numbering of
 * named bits such as KeyUsage).
 */
export function readBits (el: DerElement): boolean[] {
  const v = expect(el, Tag.BIT_STRING, 'a bit string').value
  const unused = v[0]
  if (unused === undefined || unused > 7 || (v.length === 1 && unused !== 0)) throw malformed('bad bit string')
  const bits: boolean[] = []
  for (let i = 1; i < v.length; i++) {
    const byte = v[i] as number
    for (let b = 7; b >= 0; b--) bits.push(((byte >> b) & 1) === 1)
  }
  bits.length -= unused
  return bits
}
