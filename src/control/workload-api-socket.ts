/**
 * Binding the Workload API's Unix socket without a moment of wider access: the socket hands
 * out the SVID's private key to whoever connects, so its mode must not follow the umask. It is
 * bound inside a fresh private directory (mkdtemp: 0700), given its mode there, then renamed
 * into place, so it never exists at its public path with any other mode. Its directory must
 * exist and be writable by its owner only (another user could otherwise replace the socket).
 */
import { chmodSync, lstatSync, mkdtempSync, renameSync, rmSync, statSync, unlinkSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { quote } from '../internal/errors.ts'
import { controlError } from './errors.ts'

/** The longest path a unix socket address holds on Linux (`sun_path` is 108 bytes with the NUL). */
const MAX_UNIX_PATH_BYTES = 107

/**
 * Checks the socket's directory, removes a stale socket left at `path`, calls `bind` with a
 * private path, sets `mode` and moves the socket to `path`. Throws
 * `ERR_SPIFFE_CONTROL_SOCKET_DIR_MISSING`, `ERR_SPIFFE_CONTROL_SOCKET_DIR_UNSAFE` or
 * `ERR_SPIFFE_CONTROL_SOCKET_BIND`; resolves once the socket is at `path`.
 */
export async function bindPrivateSocket (path: string, mode: number, bind: (privatePath: string) => Promise<void>): Promise<void> {
  const dir = dirname(path)
  checkDirectory(dir)
  removeStaleSocket(path)
  const failed = (err: unknown): never => {
    const code = (err as { code?: unknown }).code
    const reason = err instanceof Error ? err.message.replace(/\s+/g, ' ') : String(err)
    throw controlError('ERR_SPIFFE_CONTROL_SOCKET_BIND', `cannot create the workload api socket ${quote(path)}: ${reason}${typeof code === 'string' && !reason.includes(code) ? ` (${code})` : ''}`, { cause: err })
  }
  // The private path is `<dir>/.s-XXXXXX/s`; both must fit a unix socket address.
  const longest = Math.max(Buffer.byteLength(path), Buffer.byteLength(dir) + 12)
  if (longest > MAX_UNIX_PATH_BYTES) {
    failed(new Error(`the path needs ${longest} bytes, a unix socket address holds ${MAX_UNIX_PATH_BYTES}: choose a shorter path`))
  }
  let scratch: string
  try { scratch = mkdtempSync(join(dir, '.s-')) } catch (err) { return failed(err) }
  const inside = join(scratch, 's')
  try {
    await bind(inside)
    chmodSync(inside, mode)
    renameSync(inside, path)
  } catch (err) {
    failed(err)
  } finally {
    rmSync(scratch, { recursive: true, force: true })
  }
}

/** Removes the socket at `path` if it is one (a file left by a previous run would make the bind fail). */
export function removeStaleSocket (path: string): void {
  try {
    if (lstatSync(path).isSocket()) unlinkSync(path)
  } catch {}
}

function checkDirectory (dir: string): void {
  let mode: number
  try {
    const st = statSync(dir)
    if (!st.isDirectory()) throw Object.assign(new Error('not a directory'), { code: 'ENOTDIR' })
    mode = st.mode
  } catch (err) {
    const why = (err as { code?: unknown }).code === 'ENOTDIR' ? 'is not a directory' : (err as { code?: unknown }).code === 'ENOENT' ? 'does not exist' : `cannot be read (${String((err as { code?: unknown }).code ?? err)})`
    throw controlError('ERR_SPIFFE_CONTROL_SOCKET_DIR_MISSING', `workload api socket directory ${quote(dir)} ${why}: create it, writable by this user only`, { cause: err })
  }
  if ((mode & 0o022) !== 0) {
    throw controlError('ERR_SPIFFE_CONTROL_SOCKET_DIR_UNSAFE',
      `workload api socket directory ${quote(dir)} is writable by ${(mode & 0o002) !== 0 ? 'every user' : 'its group'} (mode ${(mode & 0o7777).toString(8).padStart(4, '0')}): another user could replace the socket; use a directory writable by this user only`)
  }
}
