import { CRL_FETCH_TIMEOUT_MS, MAX_CREDENTIAL_FILE_BYTES } from '../defaults.ts'
import { isSpiffeLbError, quote } from '../internal/errors.ts'
import { credentialsError } from './errors.ts'
import { readFile, stat } from 'node:fs/promises'

/**
 * Returns the bytes of a CRL file (a regular file of at most 1 MiB; DER is binary, so not the
 * text reader of credential files) or url (undici, `CRL_FETCH_TIMEOUT_MS`, 2xx only, at most
 * 1 MiB). Throws `ERR_SPIFFE_CREDENTIALS_CRL_UNREADABLE` naming the file or url.
 */
export async function readCrlBytes (kind: 'file' | 'url', source: string): Promise<Buffer> {
  if (kind === 'file') {
    const unreadable = (reason: string, cause?: unknown): Error =>
      credentialsError('ERR_SPIFFE_CREDENTIALS_CRL_UNREADABLE', `cannot read crl ${quote(source)}: ${reason}`, { at: source, ...(cause === undefined ? {} : { cause }) })
    let size: number
    try {
      const st = await stat(source)
      if (!st.isFile()) throw unreadable('not a regular file')
      size = st.size
    } catch (err) {
      throw isSpiffeLbError(err) ? err : unreadable((err as NodeJS.ErrnoException).code ?? (err as Error).message, err)
    }
    if (size > MAX_CREDENTIAL_FILE_BYTES) throw unreadable(`larger than ${MAX_CREDENTIAL_FILE_BYTES} bytes`)
    try {
      return await readFile(source)
    } catch (err) {
      throw unreadable((err as NodeJS.ErrnoException).code ?? (err as Error).message, err)
    }
  }
  let status: number
  let body: Buffer
  try {
    // Loaded here: a process without CRL URLs never needs undici's memory.
    const { request } = await import('undici')
    const res = await request(source, { headersTimeout: CRL_FETCH_TIMEOUT_MS, bodyTimeout: CRL_FETCH_TIMEOUT_MS, maxRedirections: 0 } as Parameters<typeof import('undici').request>[1])
    status = res.statusCode
    body = Buffer.from(await res.body.arrayBuffer())
  } catch (err) {
    throw credentialsError('ERR_SPIFFE_CREDENTIALS_CRL_UNREADABLE', `cannot fetch crl ${quote(source)}: ${(err as Error).message}`, { at: source, cause: err })
  }
  if (status < 200 || status > 299) {
    throw credentialsError('ERR_SPIFFE_CREDENTIALS_CRL_UNREADABLE', `crl url ${quote(source)} answered http ${status}`, { at: source })
  }
  if (body.length > MAX_CREDENTIAL_FILE_BYTES) {
    throw credentialsError('ERR_SPIFFE_CREDENTIALS_CRL_UNREADABLE', `crl url ${quote(source)} sent ${body.length} bytes, more than ${MAX_CREDENTIAL_FILE_BYTES}`, { at: source })
  }
  return body
}
