import { mkdir, readdir, readlink, rename, rm, symlink, writeFile } from 'node:fs/promises'
import { basename, dirname, join, resolve } from 'node:path'
import { quote } from '../internal/errors.ts'
import { GCE_FILES } from '../credentials/gce-files.ts'
import { controlError } from './errors.ts'

/** The files of one credential generation, already rendered. */
export interface CredentialFiles {
  configStatus: string
  certificates?: string
  privateKey?: string
  caCertificates?: string
  trustBundles?: string
}

let counter = 0

/** Returns the name prefix of the timestamped content directories next to `outDir`. */
export function contentDirPrefix (outDir: string): string {
  return `${basename(outDir)}-contents-`
}

/**
 * Writes `files` like the GCE guest agent does (its workload certificate refresh): a new
 * timestamped directory next to `outDir`, `config_status` first, then the credentials
 * (`private_key.pem` 0600, the rest 0644), then a temporary symlink renamed over `outDir` (an
 * atomic swap: readers see the old set or the new one, never a mix), then the previous
 * directories are removed. `outDir` must be a symlink or absent. Returns the new directory.
 */
export async function writeCredentialGeneration (outDir: string, files: CredentialFiles, now: number): Promise<string> {
  const parent = dirname(resolve(outDir))
  await mkdir(parent, { recursive: true })
  const stamp = `${new Date(now).toISOString().replace(/[-:]/g, '')}-${process.pid}-${++counter}`
  const name = `${contentDirPrefix(outDir)}${stamp}`
  const dir = join(parent, name)
  await mkdir(dir, { mode: 0o755 })
  await writeFile(join(dir, GCE_FILES.configStatus), files.configStatus, { mode: 0o644 })
  if (files.certificates !== undefined) await writeFile(join(dir, GCE_FILES.certificates), files.certificates, { mode: 0o644 })
  if (files.privateKey !== undefined) await writeFile(join(dir, GCE_FILES.privateKey), files.privateKey, { mode: 0o600 })
  if (files.caCertificates !== undefined) await writeFile(join(dir, GCE_FILES.caCertificates), files.caCertificates, { mode: 0o644 })
  if (files.trustBundles !== undefined) await writeFile(join(dir, GCE_FILES.trustBundles), files.trustBundles, { mode: 0o644 })
  const tmpLink = join(parent, `${basename(outDir)}-symlink-${stamp}`)
  // A relative target keeps the tree valid when it is bind-mounted or moved.
  await symlink(name, tmpLink)
  try {
    await rename(tmpLink, resolve(outDir))
  } catch (err) {
    await rm(tmpLink, { force: true })
    await rm(dir, { recursive: true, force: true })
    throw controlError('ERR_SPIFFE_CONTROL_OUT_DIR',
      `cannot swap ${quote(outDir)} to the new credentials (it must be a symlink or absent): ${(err as Error).message}`, { at: outDir, cause: err })
  }
  await removeOldGenerations(outDir, name)
  return dir
}

/** Returns the directory `outDir` currently points at, or undefined when it is not a symlink. */
export async function currentGeneration (outDir: string): Promise<string | undefined> {
  try {
    return resolve(dirname(resolve(outDir)), await readlink(outDir))
  } catch {
    return undefined
  }
}

/** Removes every content directory of `outDir` except `keep` (old targets, leftovers of crashed runs). */
async function removeOldGenerations (outDir: string, keep: string): Promise<void> {
  const parent = dirname(resolve(outDir))
  const prefix = contentDirPrefix(outDir)
  for (const entry of await readdir(parent)) {
    if (entry.startsWith(prefix) && entry !== keep) {
      await rm(join(parent, entry), { recursive: true, force: true })
    }
  }
}
