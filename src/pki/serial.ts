import { randomBytes } from 'node:crypto'

/**
 * Returns a random positive serial number of 128 bits as hex. 128 bits of CSPRNG output is far
 * above the 64 bits CA/Browser Forum rules ask for; the encoder adds a leading zero octet when
 * the top bit is set so the DER INTEGER stays positive (RFC 5280 section 4.1.2.2).
 */
export function randomSerialHex (): string {
  const bytes = randomBytes(16)
  // A zero first octet would make the number shorter than 128 bits; avoid it.
  if (bytes[0] === 0) bytes[0] = 1
  return bytes.toString('hex')
}
