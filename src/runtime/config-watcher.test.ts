import t from 'tap'
import { mkdtemp, mkdir, rename, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { watchConfigFile } from './config-watcher.ts'

async function waitFor (what: () => boolean, label: string): Promise<void> {
  const end = Date.now() + 20_000
  while (!what()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${label}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

// A Kubernetes ConfigMap volume: config.yaml -> ..data/config.yaml, ..data -> a timestamped
// directory; an update writes a new directory and renames a new `..data` symlink over the old.
t.test('a ConfigMap-style symlink swap is noticed, twice', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'spiffe-lb-watch-'))
  t.teardown(async () => { await rm(dir, { recursive: true, force: true }) })
  const version = async (n: number, text: string): Promise<void> => {
    await mkdir(join(dir, `..v${n}`))
    await writeFile(join(dir, `..v${n}`, 'config.yaml'), text)
    await symlink(`..v${n}`, join(dir, '..data_tmp'))
    await rename(join(dir, '..data_tmp'), join(dir, '..data'))
  }
  await version(1, 'a: 1\n')
  await symlink('..data/config.yaml', join(dir, 'config.yaml'))
  let changes = 0
  const watcher = await watchConfigFile(join(dir, 'config.yaml'), () => { changes++ }, { debounceMs: 50 })
  t.teardown(() => { watcher.close() })
  await version(2, 'a: 2\n')
  await waitFor(() => changes === 1, 'the first swap')
  await version(3, 'a: 3\n')
  await waitFor(() => changes === 2, 'the second swap')
  t.equal(changes, 2)
})
