import type { DerElement } from './der.ts'
import { spiffeError } from './errors.ts'

/** The GeneralName CHOICE of RFC 5280 §4.2.1.6, by context tag number. */
export type GeneralNameKind =
  | 'otherName' | 'email' | 'dns' | 'x400Address' | 'directory' | 'ediParty' | 'uri' | 'ip' | 'registeredId'

const KINDS: readonly GeneralNameKind[] =
  ['otherName', 'email', 'dns', 'x400Address', 'directory', 'ediParty', 'uri', 'ip', 'registeredId']

/**
 * One decoded GeneralName. String kinds (email, dns, uri) hold their IA5String bytes
 * decoded one byte per character (latin1), so a non-ASCII byte stays visible and fails
 * later character checks instead of being replaced; ip is dotted/colon hex (with `/mask`
 * hex in name constraints); the others hold the hex of their DER contents.
 */
export interface GeneralName {
  readonly kind: GeneralNameKind
  readonly value: string
}

/** Decodes one GeneralName element. Throws `ERR_SPIFFE_DER_MALFORMED` on a non-context tag. */
export function readGeneralName (el: DerElement): GeneralName {
  const kind = KINDS[el.tag]
  if (el.cls !== 2 || kind === undefined) {
    throw spiffeError('ERR_SPIFFE_DER_MALFORMED', 'der encoding is malformed: bad general name tag')
  }
  switch (kind) {
    case 'email': case 'dns': case 'uri':
      return { kind, value: el.value.toString('latin1') }
    case 'ip':
      return { kind, value: formatIp(el.value) }
    default:
      return { kind, value: el.value.toString('hex') }
  }
}

function formatIp (b: Buffer): string {
  const v4 = (x: Buffer): string => [...x].join('.')
  const v6 = (x: Buffer): string => (x.toString('hex').match(/.{4}/g) ?? []).join(':')
  switch (b.length) {
    case 4: return v4(b)
    case 8: return `${v4(b.subarray(0, 4))}/${v4(b.subarray(4))}`
    case 16: return v6(b)
    case 32: return `${v6(b.subarray(0, 16))}/${v6(b.subarray(16))}`
    default: return b.toString('hex')
  }
}
