import { access, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { isSpiffeLbError, quote, withContext } from '../internal/errors.ts'
import { loadCertificateAuthority, type CertificateAuthority } from '../pki/index.ts'
import { controlError } from './errors.ts'

/**
 * File names of a CA directory (like a CA Service CA: its cert, key, chain and root). The one
 * owner of this layout: `ca create-*` writes it, `svid issue` and the CA pool store read it,
 * and `describe` shows a pool's root from it (docs/architecture.md#formats-and-defaults).
 */
export const CA_FILES = {
  cert: 'ca.pem', key: 'ca.key.pem', chain: 'chain.pem', root: 'root.pem',
  /** The CA's published CRL (PEM), rewritten by `ca revoke`, and the list it is made from. */
  crl: 'crl.pem', revoked: 'revoked.json',
  /** The `spiffe_sequence` `bundle-endpoint` last served for this CA's bundle, and that bundle's fingerprints. */
  bundleSequence: 'bundle-sequence.json'
} as const

const POOL_ID = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/

/** Returns the directory that holds the CA pools under a control plane `stateDir`. */
export function caPoolsDir (stateDir: string): string {
  return join(stateDir, 'ca-pools')
}

/** Returns the directory of pool `poolId` under `stateDir`; throws `ERR_SPIFFE_CONTROL_POOL_ID` for an invalid ID. */
export function caPoolDir (stateDir: string, poolId: string): string {
  if (!POOL_ID.test(poolId) || poolId.length > 63) {
    throw controlError('ERR_SPIFFE_CONTROL_POOL_ID',
      `ca pool id ${quote(poolId)} must be 1-63 characters [a-z0-9-], starting and ending alphanumeric`)
  }
  return join(caPoolsDir(stateDir), poolId)
}

/** Reads a file of a CA directory; `what` says what it is (`ca certificate`) for the error. */
export type CaFileReader = (path: string, what: string) => Promise<string>

/** Returns the text of `path`; throws `ERR_SPIFFE_CONTROL_STATE_UNREADABLE` naming the file and `what` it is. */
async function readCaFile (path: string, what: string): Promise<string> {
  try {
    return await readFile(path, 'utf8')
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code ?? String(err)
    throw controlError('ERR_SPIFFE_CONTROL_STATE_UNREADABLE', `cannot read ${what} ${quote(path)}: ${reason}`, { at: path, cause: err })
  }
}

/**
 * Returns the CA stored in `dir` by `ca create-root` / `ca create-subordinate`. `read` reads its
 * files (the CLI passes its own, whose error names a file given on the command line).
 */
export async function loadCaDir (dir: string, read: CaFileReader = readCaFile): Promise<CertificateAuthority> {
  const certPem = await read(join(dir, CA_FILES.cert), 'ca certificate')
  const keyPem = await read(join(dir, CA_FILES.key), 'ca private key')
  const optional = async (name: string): Promise<string> => {
    const path = join(dir, name)
    return await access(path).then(async () => await read(path, 'ca parent certificates'), () => '')
  }
  const parents = (await optional(CA_FILES.chain)) + (await optional(CA_FILES.root))
  try {
    return loadCertificateAuthority(certPem, keyPem, parents)
  } catch (err) {
    if (!isSpiffeLbError(err)) throw err
    throw withContext(err, `ca directory ${quote(dir)}: ${err.message}`, { at: dir, cause: err })
  }
}
