/**
 * The one reader of credential files (docs/architecture.md#security-model: credential files are
 * regular, bounded and read with a timeout). A path pointed at `/dev/zero` must not eat the
 * memory, a FIFO must not block every later rotation, and what is read is never quoted back.
 */
import { constants, type Stats } from 'node:fs'
import { open, realpath, type FileHandle } from 'node:fs/promises'
import { CREDENTIAL_READ_TIMEOUT_MS, MAX_CREDENTIAL_FILE_BYTES } from '../defaults.ts'
import { quote, type SpiffeLbError } from '../internal/errors.ts'
import { credentialsError } from './errors.ts'

export { CREDENTIAL_READ_TIMEOUT_MS, MAX_CREDENTIAL_FILE_BYTES } from '../defaults.ts'

/** A credential file read whole. */
export interface CredentialFileRead {
  text: string
  /** The path as given. */
  path: string
  /** The file actually read: `path` with every symlink resolved. */
  resolved: string
  /** Permission bits of the file read (`mode & 0o777`). */
  mode: number
}

/** Options of {@link readCredentialFile}. */
export interface ReadCredentialFileOptions {
  maxBytes?: number
  timeoutMs?: number
}

/**
 * Returns the content of the credential file `path`, or undefined when it does not exist.
 * Symlinks are resolved first (the target is returned and named in errors). The file is
 * opened non-blocking and checked with `fstat` on the open descriptor, so a FIFO, device,
 * socket or directory is refused without waiting on it (`ERR_SPIFFE_CREDENTIALS_FILE_NOT_REGULAR`);
 * more than `maxBytes` is `ERR_SPIFFE_CREDENTIALS_FILE_TOO_LARGE`; a read slower than
 * `timeoutMs` is `ERR_SPIFFE_CREDENTIALS_READ_TIMEOUT`; anything else `…_FILE_UNREADABLE`.
 */
export async function readCredentialFile (path: string, options: ReadCredentialFileOptions = {}): Promise<CredentialFileRead | undefined> {
  const maxBytes = options.maxBytes ?? MAX_CREDENTIAL_FILE_BYTES
  const timeoutMs = options.timeoutMs ?? CREDENTIAL_READ_TIMEOUT_MS
  let resolved: string
  try {
    resolved = await realpath(path)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw unreadable(path, path, err)
  }
  const name = resolved === path ? quote(path) : `${quote(path)} (symlink to ${quote(resolved)})`
  let handle: FileHandle
  try {
    handle = await open(resolved, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw unreadable(path, name, err)
  }
  let timer: NodeJS.Timeout | undefined
  const timedOut = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => {
      reject(credentialsError('ERR_SPIFFE_CREDENTIALS_READ_TIMEOUT',
        `credential file ${name} was not read within ${timeoutMs} ms`, { at: path }))
    }, timeoutMs)
  })
  try {
    return await Promise.race([readWhole(handle, path, name, resolved, maxBytes), timedOut])
  } finally {
    clearTimeout(timer)
    await handle.close().catch(() => {})
  }
}

/**
 * Returns the credential file `path` as {@link readCredentialFile} does; a missing file is
 * `ERR_SPIFFE_CREDENTIALS_FILE_MISSING` (for files the config names, such as the frontend's).
 */
export async function readRequiredCredentialFile (path: string, options: ReadCredentialFileOptions = {}): Promise<CredentialFileRead> {
  const read = await readCredentialFile(path, options)
  if (read === undefined) throw credentialsError('ERR_SPIFFE_CREDENTIALS_FILE_MISSING', `credential file ${quote(path)} does not exist`, { at: path })
  return read
}

async function readWhole (handle: FileHandle, path: string, name: string, resolved: string, maxBytes: number): Promise<CredentialFileRead> {
  const stats = await handle.stat()
  if (!stats.isFile()) {
    throw credentialsError('ERR_SPIFFE_CREDENTIALS_FILE_NOT_REGULAR',
      `credential file ${name} is ${kind(stats)}, not a regular file`, { at: path })
  }
  const tooLarge = (): SpiffeLbError => credentialsError('ERR_SPIFFE_CREDENTIALS_FILE_TOO_LARGE',
    `credential file ${name} is larger than ${maxBytes} bytes`, { at: path })
  if (stats.size > maxBytes) throw tooLarge()
  // The size may change while reading: read at most one byte past the cap to notice.
  const chunks: Buffer[] = []
  let length = 0
  for (;;) {
    const chunk = Buffer.allocUnsafe(Math.min(64 * 1024, maxBytes + 1 - length))
    const { bytesRead } = await handle.read(chunk, 0, chunk.length, null)
    if (bytesRead === 0) break
    chunks.push(chunk.subarray(0, bytesRead))
    length += bytesRead
    if (length > maxBytes) throw tooLarge()
  }
  return { text: Buffer.concat(chunks, length).toString('utf8'), path, resolved, mode: stats.mode & 0o777 }
}

function kind (stats: Stats): string {
  if (stats.isFIFO()) return 'a fifo'
  if (stats.isCharacterDevice()) return 'a character device'
  if (stats.isBlockDevice()) return 'a block device'
  if (stats.isSocket()) return 'a socket'
  if (stats.isDirectory()) return 'a directory'
  return 'not a regular file'
}

function unreadable (path: string, name: string, err: unknown): SpiffeLbError {
  const code = (err as NodeJS.ErrnoException).code ?? 'error'
  // Permission problems are fixed by whoever owns the file: say which user must be able to read it.
  const who = code === 'EACCES' || code === 'EPERM'
    ? `: this process runs as uid ${process.getuid?.() ?? '?'} (gid ${process.getgid?.() ?? '?'}), which needs read access to the file and search access to its directories`
    : ''
  return credentialsError('ERR_SPIFFE_CREDENTIALS_FILE_UNREADABLE',
    `cannot read credential file ${name} (${code})${who}`, { at: path, cause: err })
}
