import { writeFileAtomic } from '../internal/atomic-write.ts'
import { durationFlag } from '../process/duration-flag.ts'
import { isSpiffeLbError, quote, withContext } from '../internal/errors.ts'
import { parseKeyAlgorithm, type KeyAlgorithm } from '../pki/index.ts'
import { cliError } from '../process/errors.ts'

/** Returns `--key-algorithm` parsed (ours or gcloud's names), or undefined for the default. */
export function keyAlgorithmOption (value: string | undefined): KeyAlgorithm | undefined {
  if (value === undefined) return undefined
  try {
    return parseKeyAlgorithm(value)
  } catch (err) {
    if (!isSpiffeLbError(err)) throw err
    throw withContext(err, `--key-algorithm: ${err.message}`, { at: '--key-algorithm' })
  }
}

/** Returns a `--lifetime` (`86400s`, `24h`, at least `1s`) in ms; `ERR_SPIFFE_CLI_LIFETIME` otherwise. */
export function lifetimeOption (value: string): number {
  return durationFlag('--lifetime', value, 1000, 'ERR_SPIFFE_CLI_LIFETIME')
}

/** Writes one certificate or key file atomically; a failure is `ERR_SPIFFE_CLI_WRITE_FILE` naming the file. */
export async function writeCertFile (path: string, data: string, mode: number): Promise<void> {
  try {
    await writeFileAtomic(path, data, mode)
  } catch (err) {
    throw cliError('ERR_SPIFFE_CLI_WRITE_FILE', `cannot write ${quote(path)}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, { at: path, cause: err })
  }
}
