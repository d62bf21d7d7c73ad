import { X509Certificate } from 'node:crypto'
import { quote } from '../internal/errors.ts'
import { parsePem } from '../internal/pem.ts'
import { cliError } from '../process/errors.ts'

// Certificate files as commands read them (`inspect`, `verify`, `ca revoke --cert`): PEM or DER,
// told apart by content. Kept apart from the trust inputs so `inspect` loads no config code.

/**
 * Returns the certificates of a chain file, PEM or DER as openssl reads them, told apart by
 * content: text with a BEGIN line is PEM (other blocks, such as a key, are ignored), anything
 * else is one DER certificate. Throws `ERR_SPIFFE_CLI_NO_CERTIFICATE` or `ERR_SPIFFE_CLI_BAD_CERTIFICATE` naming `file`.
 */
export function readChain (content: Buffer | string, file: string): X509Certificate[] {
  const bytes = typeof content === 'string' ? Buffer.from(content, 'utf8') : content
  if (!isPem(bytes)) {
    if (bytes[0] !== DER_SEQUENCE) throw noCertificate(file)
    try {
      return [new X509Certificate(bytes)]
    } catch (err) {
      throw cliError('ERR_SPIFFE_CLI_BAD_CERTIFICATE', `${quote(file)} is neither pem nor a der x.509 certificate`, { at: file, cause: err })
    }
  }
  const blocks = parsePem(bytes.toString('utf8'), file).filter((b) => b.type === 'CERTIFICATE')
  if (blocks.length === 0) throw noCertificate(file)
  return blocks.map((b, i) => {
    try {
      return new X509Certificate(b.der)
    } catch (err) {
      throw cliError('ERR_SPIFFE_CLI_BAD_CERTIFICATE', `${quote(file)}: certificate ${i + 1} does not parse as x.509`, { at: file, cause: err })
    }
  })
}

/** The first byte of every DER certificate and CRL: an ASN.1 SEQUENCE. */
const DER_SEQUENCE = 0x30

/** Returns true when `bytes` hold a PEM BEGIN line, as openssl's content sniffing does. */
export function isPem (bytes: Buffer): boolean {
  return bytes.includes('-----BEGIN ')
}

const noCertificate = (file: string): Error =>
  cliError('ERR_SPIFFE_CLI_NO_CERTIFICATE', `${quote(file)} holds no certificate: no pem "CERTIFICATE" block and no der certificate`, { at: file })
