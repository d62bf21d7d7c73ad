import { internalError, quote } from './errors.ts'

/** One decoded PEM block. */
export interface PemBlock {
  /** The label, e.g. `CERTIFICATE`, `PRIVATE KEY`, `EC PRIVATE KEY`. */
  type: string
  der: Buffer
}

const BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END ([A-Z0-9 ]+)-----/g
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/

/**
 * Returns every PEM block in `text`, in order (RFC 7468). Throws `ERR_SPIFFE_PEM_*` when a
 * block is unterminated, its labels disagree, or its body is not base64; `source` names the
 * file or field in the message. Text between blocks is ignored, as OpenSSL does.
 */
export function parsePem (text: string, source = 'input'): PemBlock[] {
  const blocks: PemBlock[] = []
  let end = 0
  for (const m of text.matchAll(BLOCK)) {
    const [, begin = '', body = '', finish = ''] = m
    if (begin !== finish) {
      throw internalError('ERR_SPIFFE_PEM_LABEL_MISMATCH',
        `pem block begins with ${quote(begin)} but ends with ${quote(finish)}`, { at: source })
    }
    // RFC 7468 allows headers (Proc-Type, DEK-Info) only on encrypted legacy keys, which we refuse.
    if (body.includes(':')) {
      throw internalError('ERR_SPIFFE_PEM_ENCRYPTED',
        `pem block ${quote(begin)} has headers (encrypted keys are not supported)`, { at: source })
    }
    const b64 = body.replace(/\s+/g, '')
    if (b64.length === 0 || b64.length % 4 !== 0 || !BASE64.test(b64)) {
      throw internalError('ERR_SPIFFE_PEM_BAD_BASE64',
        `pem block ${quote(begin)} body is not valid base64`, { at: source })
    }
    blocks.push({ type: begin, der: Buffer.from(b64, 'base64') })
    end = (m.index ?? 0) + m[0].length
  }
  if (/-----BEGIN [A-Z0-9 ]+-----/.test(text.slice(end))) {
    throw internalError('ERR_SPIFFE_PEM_TRUNCATED',
      'pem block has a BEGIN line but no matching END line (truncated or half-written file?)', { at: source })
  }
  return blocks
}

/** Returns `der` as a PEM block with 64-character lines and a trailing newline. */
export function toPem (type: string, der: Uint8Array): string {
  const b64 = Buffer.from(der).toString('base64')
  const lines = b64.match(/.{1,64}/g) ?? []
  return `-----BEGIN ${type}-----\n${lines.join('\n')}\n-----END ${type}-----\n`
}
