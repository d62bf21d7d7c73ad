import { createDecipheriv, createHmac } from 'node:crypto'
import { Duplex } from 'node:stream'
import type { Socket } from 'node:net'

/** Whether the server asked for a client certificate, and which CA names it listed. */
export interface CertificateRequestSeen {
  /** False when the server finished its handshake without a CertificateRequest. */
  requested: boolean
  /** The distinguished names of `certificate_authorities` (`CN=…, O=…`), empty when it named none. */
  caNames: string[]
}

/**
 * Returns a duplex over `raw` that records the bytes the server sends, for
 * {@link readCertificateRequest}: TLS over it works as over `raw` itself.
 */
export function tapServerBytes (raw: Socket): { raw: Socket, stream: Duplex, received: Buffer[] } {
  const received: Buffer[] = []
  const stream = new Duplex({
    read () { raw.resume() },
    write (chunk: Buffer, _enc, cb) { raw.write(chunk, cb) },
    final (cb) { raw.end(); cb() },
    destroy (err, cb) { raw.destroy(err ?? undefined); cb(err) }
  })
  raw.on('data', (chunk: Buffer) => { received.push(chunk); if (!stream.push(chunk)) raw.pause() })
  raw.on('end', () => { stream.push(null) })
  raw.on('error', (err) => { stream.destroy(err) })
  return { raw, stream, received }
}

const CIPHERS: Record<string, { algorithm: string, keyLength: number, hash: string }> = {
  TLS_AES_128_GCM_SHA256: { algorithm: 'aes-128-gcm', keyLength: 16, hash: 'sha256' },
  TLS_AES_256_GCM_SHA384: { algorithm: 'aes-256-gcm', keyLength: 32, hash: 'sha384' },
  TLS_CHACHA20_POLY1305_SHA256: { algorithm: 'chacha20-poly1305', keyLength: 32, hash: 'sha256' }
}

/** RFC 8446 §7.1 HKDF-Expand-Label with an empty context (one HMAC block is enough here). */
function expandLabel (hash: string, secret: Buffer, label: string, length: number): Buffer {
  const full = Buffer.from(`tls13 ${label}`)
  const info = Buffer.concat([Buffer.from([length >> 8, length & 0xff, full.length]), full, Buffer.from([0])])
  return createHmac(hash, secret).update(Buffer.concat([info, Buffer.from([1])])).digest().subarray(0, length)
}

/** Returns the TLS records in `bytes`: content type and body. */
function records (bytes: Buffer): Array<{ type: number, header: Buffer, body: Buffer }> {
  const out: Array<{ type: number, header: Buffer, body: Buffer }> = []
  for (let at = 0; at + 5 <= bytes.length;) {
    const len = bytes.readUInt16BE(at + 3)
    if (at + 5 + len > bytes.length) break
    out.push({ type: bytes[at] ?? 0, header: bytes.subarray(at, at + 5), body: bytes.subarray(at + 5, at + 5 + len) })
    at += 5 + len
  }
  return out
}

/** Returns the handshake messages (type, body) in `stream`. */
function handshakes (stream: Buffer): Array<{ type: number, body: Buffer }> {
  const out: Array<{ type: number, body: Buffer }> = []
  for (let at = 0; at + 4 <= stream.length;) {
    const len = stream.readUIntBE(at + 1, 3)
    if (at + 4 + len > stream.length) break
    out.push({ type: stream[at] ?? 0, body: stream.subarray(at + 4, at + 4 + len) })
    at += 4 + len
  }
  return out
}

/**
 * Returns what the server's handshake said about client certificates, read from the server's
 * bytes: TLS 1.2 sends CertificateRequest in clear; TLS 1.3 encrypts it under the server
 * handshake traffic secret, which the connection's `keylog` line gives (RFC 8446 §7.3). Returns
 * undefined when it cannot be read (another cipher, a missing secret, a cut stream).
 */
export function readCertificateRequest (received: readonly Buffer[], version: string, cipher: string, keylog: readonly Buffer[]): CertificateRequestSeen | undefined {
  const all = records(Buffer.concat(received))
  let stream: Buffer
  if (version === 'TLSv1.3') {
    const suite = CIPHERS[cipher]
    const line = keylog.map((l) => l.toString('latin1')).find((l) => l.startsWith('SERVER_HANDSHAKE_TRAFFIC_SECRET '))
    if (suite === undefined || line === undefined) return undefined
    const secret = Buffer.from(line.trim().split(' ')[2] ?? '', 'hex')
    const key = expandLabel(suite.hash, secret, 'key', suite.keyLength)
    const iv = expandLabel(suite.hash, secret, 'iv', 12)
    const plain: Buffer[] = []
    let seq = 0
    for (const r of all.filter((x) => x.type === 23)) {
      const nonce = Buffer.from(iv)
      for (let i = 0; i < 8; i++) nonce[11 - i] = (nonce[11 - i] ?? 0) ^ Number((BigInt(seq) >> BigInt(8 * i)) & 0xffn)
      seq++
      try {
        const d = createDecipheriv(suite.algorithm as 'aes-128-gcm', key, nonce, { authTagLength: 16 })
        d.setAAD(r.header)
        d.setAuthTag(r.body.subarray(r.body.length - 16))
        const inner = Buffer.concat([d.update(r.body.subarray(0, r.body.length - 16)), d.final()])
        let end = inner.length - 1
        while (end >= 0 && inner[end] === 0) end--
        if (inner[end] !== 22) break
        plain.push(inner.subarray(0, end))
        if (handshakes(Buffer.concat(plain)).some((h) => h.type === 20)) break // server Finished
      } catch {
        break // past the handshake: application traffic keys
      }
    }
    stream = Buffer.concat(plain)
  } else {
    stream = Buffer.concat(all.filter((x) => x.type === 22).map((x) => x.body))
  }
  const messages = handshakes(stream)
  if (!messages.some((h) => h.type === 20 || h.type === 14)) return undefined // no Finished / ServerHelloDone seen
  const request = messages.find((h) => h.type === 13)
  if (request === undefined) return { requested: false, caNames: [] }
  return { requested: true, caNames: version === 'TLSv1.3' ? tls13Authorities(request.body) : tls12Authorities(request.body) }
}

function tls13Authorities (body: Buffer): string[] {
  let at = 1 + (body[0] ?? 0)
  const end = at + 2 + body.readUInt16BE(at)
  at += 2
  while (at + 4 <= end) {
    const type = body.readUInt16BE(at)
    const len = body.readUInt16BE(at + 2)
    if (type === 47) return distinguishedNames(body.subarray(at + 6, at + 4 + len))
    at += 4 + len
  }
  return []
}

function tls12Authorities (body: Buffer): string[] {
  let at = 1 + (body[0] ?? 0)
  at += 2 + body.readUInt16BE(at)
  const len = body.readUInt16BE(at)
  return distinguishedNames(body.subarray(at + 2, at + 2 + len))
}

/** Returns each `DistinguishedName<1..2^16-1>` of a list as text. */
function distinguishedNames (list: Buffer): string[] {
  const out: string[] = []
  for (let at = 0; at + 2 <= list.length;) {
    const len = list.readUInt16BE(at)
    out.push(nameText(list.subarray(at + 2, at + 2 + len)))
    at += 2 + len
  }
  return out
}

const ATTRIBUTES: Record<string, string> = { '2.5.4.3': 'CN', '2.5.4.6': 'C', '2.5.4.7': 'L', '2.5.4.8': 'ST', '2.5.4.10': 'O', '2.5.4.11': 'OU', '2.5.4.5': 'serialNumber', '0.9.2342.19200300.100.1.25': 'DC' }

/** Returns one DER TLV at `at`: tag, content, and where the next begins. */
function tlv (der: Buffer, at: number): { tag: number, content: Buffer, next: number } {
  const tag = der[at] ?? 0
  let len = der[at + 1] ?? 0
  let start = at + 2
  if (len & 0x80) {
    const n = len & 0x7f
    len = der.readUIntBE(at + 2, n)
    start += n
  }
  return { tag, content: der.subarray(start, start + len), next: start + len }
}

function oidText (b: Buffer): string {
  const parts = [Math.floor((b[0] ?? 0) / 40), (b[0] ?? 0) % 40]
  let v = 0
  for (const byte of b.subarray(1)) {
    v = v * 128 + (byte & 0x7f)
    if ((byte & 0x80) === 0) { parts.push(v); v = 0 }
  }
  return parts.join('.')
}

/** Returns an X.501 Name (DER) as `CN=…, O=…`, in the order written. */
function nameText (der: Buffer): string {
  try {
    const seq = tlv(der, 0).content
    const parts: string[] = []
    for (let at = 0; at < seq.length;) {
      const rdn = tlv(seq, at)
      for (let i = 0; i < rdn.content.length;) {
        const atv = tlv(rdn.content, i)
        const oid = tlv(atv.content, 0)
        const value = tlv(atv.content, oid.next)
        const type = oidText(oid.content)
        parts.push(`${ATTRIBUTES[type] ?? type}=${value.content.toString('utf8')}`)
        i = atv.next
      }
      at = rdn.next
    }
    return parts.join(', ')
  } catch {
    return `(unparsed name, ${der.length} bytes)`
  }
}
