import { randomBytes } from 'node:crypto'
import { open, rename, rm } from 'node:fs/promises'

/**
 * Writes `data` to `path` atomically: a temporary file in the same directory, created with
 * `mode` (so a key is never readable by others, not even briefly), flushed, then renamed over
 * `path`. A reader sees the old file or the new one, never half of one. Resolves once the file
 * is in place; on failure removes the temporary file and rethrows the file system's error
 * (the caller names what it was writing).
 */
export async function writeFileAtomic (path: string, data: string, mode: number): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`
  try {
    const fh = await open(tmp, 'wx', mode)
    try {
      await fh.writeFile(data)
      await fh.sync()
    } finally {
      await fh.close()
    }
    await rename(tmp, path)
  } catch (err) {
    await rm(tmp, { force: true }).catch(() => {})
    throw err
  }
}
