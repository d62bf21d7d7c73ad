import { readFile } from 'node:fs/promises'
import { quote } from '../internal/errors.ts'
import { cliError } from './errors.ts'

/**
 * Returns the text of `path`, a file given on the command line; throws `ERR_SPIFFE_CLI_READ_FILE`
 * naming the file and `what` it is. Also the reader of CA directories given to `svid issue` and
 * `ca create-subordinate` (see `loadCaDir`).
 */
export async function readTextFile (path: string, what: string): Promise<string> {
  try {
    return await readFile(path, 'utf8')
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code ?? String(err)
    throw cliError('ERR_SPIFFE_CLI_READ_FILE', `cannot read ${what} ${quote(path)}: ${reason}`, { at: path, cause: err })
  }
}

/** Returns the bytes of `path` (a certificate or CRL, PEM or DER); throws `ERR_SPIFFE_CLI_READ_FILE` as `readTextFile` does. */
export async function readFileBytes (path: string, what: string): Promise<Buffer> {
  try {
    return await readFile(path)
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code ?? String(err)
    throw cliError('ERR_SPIFFE_CLI_READ_FILE', `cannot read ${what} ${quote(path)}: ${reason}`, { at: path, cause: err })
  }
}
