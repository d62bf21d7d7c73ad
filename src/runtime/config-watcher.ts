import { createHash } from 'node:crypto'
import { watch, type FSWatcher } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { dirname } from 'node:path'
import { CONFIG_DEBOUNCE_MS } from '../defaults.ts'

/** A running watch on a config file; `close` stops it. */
export interface ConfigWatcher { close (): void }

async function digest (file: string): Promise<string | undefined> {
  try {
    return createHash('sha256').update(await readFile(file)).digest('hex')
  } catch {
    return undefined
  }
}

/**
 * Calls `onChange` once per settled change of `file`'s content, and returns the watch.
 *
 * It watches the file's directory, not the file: `sed -i`, vim, IDE "safe write" and
 * Kubernetes ConfigMap updates (a `..data` symlink swap) replace the file by rename, and a
 * watch on the old inode never fires again. Any event in the directory triggers a debounced
 * read; only a content different from the last one seen calls `onChange`, so unrelated files
 * and editors' several events per save cost one read, not a reload.
 */
export async function watchConfigFile (file: string, onChange: () => void, options: { debounceMs?: number } = {}): Promise<ConfigWatcher> {
  const debounceMs = options.debounceMs ?? CONFIG_DEBOUNCE_MS
  let last = await digest(file)
  let timer: NodeJS.Timeout | undefined
  let closed = false
  const check = async (): Promise<void> => {
    const now = await digest(file)
    // A missing file mid-rename is not a change; the rename's own event comes next.
    if (closed || now === undefined || now === last) return
    last = now
    onChange()
  }
  // Persistent: an unref'd directory watch was seen to deliver no events at all in a busy
  // process; close() ends it. No filter on the event's file name: a ConfigMap swaps `..data`, not the file's own name.
  const watcher: FSWatcher = watch(dirname(file), { persistent: true }, () => {
    clearTimeout(timer)
    timer = setTimeout(() => { void check() }, debounceMs)
  })
  watcher.on('error', () => {})
  return {
    close () {
      closed = true
      clearTimeout(timer)
      watcher.close()
    }
  }
}
