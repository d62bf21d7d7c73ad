import { quote } from '../internal/errors.ts'
import { credentialsError } from './errors.ts'

/**
 * Throws `ERR_SPIFFE_CREDENTIALS_KEY_FILE_WRITABLE` when the private key file `path` with
 * permission bits `mode` is writable by other users: anyone on the host could swap the key
 * the proxy presents. Fail closed, like OpenSSH does for its keys.
 */
export function assertKeyFileSafe (path: string, mode: number): void {
  if ((mode & 0o002) !== 0) {
    throw credentialsError('ERR_SPIFFE_CREDENTIALS_KEY_FILE_WRITABLE',
      `private key file ${quote(path)} is writable by other users (mode ${modeText(mode)}); run chmod go-w on it`, { at: path })
  }
}

/** Returns a warning when the private key file `path` is readable by other users, else undefined. */
export function keyFileWarning (path: string, mode: number): string | undefined {
  if ((mode & 0o004) === 0) return undefined
  return `private key file ${quote(path)} is readable by other users (mode ${modeText(mode)}); run chmod o-r on it`
}

function modeText (mode: number): string {
  return `0${(mode & 0o777).toString(8).padStart(3, '0')}`
}
