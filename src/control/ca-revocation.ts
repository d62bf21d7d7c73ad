import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { CRL_VALIDITY_MS } from '../defaults.ts'
import { writeFileAtomic } from '../internal/atomic-write.ts'
import { quote } from '../internal/errors.ts'
import { createCrl, type RevokedEntry } from '../pki/index.ts'
import { CA_FILES, loadCaDir } from './ca-layout.ts'
import { controlError } from './errors.ts'


async function readRevoked (dir: string): Promise<RevokedEntry[]> {
  const path = join(dir, CA_FILES.revoked)
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return []
    throw controlError('ERR_SPIFFE_CONTROL_REVOKED_LIST', `cannot read ${quote(path)}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, { at: path, cause: err })
  }
  const parsed: unknown = (() => { try { return JSON.parse(text) } catch { return undefined } })()
  const ok = Array.isArray(parsed) && parsed.every((e: unknown) => typeof e === 'object' && e !== null &&
    typeof (e as RevokedEntry).serialHex === 'string' && typeof (e as RevokedEntry).revokedAt === 'number')
  if (!ok) throw controlError('ERR_SPIFFE_CONTROL_REVOKED_LIST', `${quote(path)} is not a list of {serialHex, revokedAt}`, { at: path })
  return parsed as RevokedEntry[]
}

/**
 * Revokes `serialHex` in the CA directory `dir` (a `ca create-*` directory or a CA pool's
 * `<stateDir>/ca-pools/<pool>`), then publishes the CA's CRL as `crl.pem`, valid from `now` for
 * `validityMs`. Both files are replaced atomically. Returns the CRL path and every revoked entry.
 * Revoking a serial twice keeps its first revocation time.
 */
export async function revokeInCaDir (dir: string, serialHex: string, now: number, validityMs = CRL_VALIDITY_MS): Promise<{ crlPath: string, revoked: RevokedEntry[] }> {
  const serial = serialHex.toLowerCase().replace(/:/g, '')
  if (!/^[0-9a-f]{1,40}$/.test(serial)) {
    throw controlError('ERR_SPIFFE_CONTROL_SERIAL', `serial number must be 1-40 hex digits, got ${quote(serialHex)}`, { at: '--serial' })
  }
  const ca = await loadCaDir(dir)
  const revoked = await readRevoked(dir)
  const same = (a: string): boolean => a.replace(/^0+/, '') === serial.replace(/^0+/, '')
  if (!revoked.some((r) => same(r.serialHex))) revoked.push({ serialHex: serial, revokedAt: now })
  const crlPath = join(dir, CA_FILES.crl)
  await writeFileAtomic(join(dir, CA_FILES.revoked), `${JSON.stringify(revoked, null, 2)}\n`, 0o644)
  await writeFileAtomic(crlPath, await createCrl(ca, revoked, now, now + validityMs), 0o644)
  return { crlPath, revoked }
}
