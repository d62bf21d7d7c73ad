import t from 'tap'
import { spawn } from 'node:child_process'
import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createDemoWorld, demoConfigYaml } from '../src/testbed/up-world.ts'

const main = new URL('../src/cli/main.ts', import.meta.url).pathname

async function waitFor (what: () => boolean, label: string, output: () => string, ms = 30_000): Promise<void> {
  const end = Date.now() + ms
  while (!what()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${label}\n${output()}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

/** Saves like `sed -i`, vim or an IDE: a new file renamed over the old one. */
async function saveByRename (file: string, text: string): Promise<void> {
  await writeFile(`${file}.tmp`, text)
  await rename(`${file}.tmp`, file)
}

const count = (text: string, what: string): number => text.split(what).length - 1

t.test('serve notices every save-by-rename, good and broken, not only the first', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'spiffe-lb-rename-'))
  t.teardown(async () => { await rm(dir, { recursive: true, force: true }) })
  const world = await createDemoWorld(dir, Date.now())
  const config = join(dir, 'config.yaml')
  const text = demoConfigYaml(world, new Map(world.backends.map((b, i) => [b.name, 19443 + i])), { proxyPort: 0, adminPort: 0 })
  await writeFile(config, text)
  const child = spawn(process.execPath, [main, 'serve', '-c', config], { stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  child.stdout.on('data', (d: Buffer) => { output += d.toString() })
  child.stderr.on('data', (d: Buffer) => { output += d.toString() })
  t.teardown(() => { child.kill('SIGKILL') })
  await waitFor(() => output.includes('proxy listening') || child.exitCode !== null, 'serve to listen', () => output)

  await saveByRename(config, text.replace('timeoutSec: 30', 'timeoutSec: 31'))
  await waitFor(() => count(output, 'config reloaded (config file changed)') === 1, 'the first rename to reload', () => output)
  await saveByRename(config, text.replace('timeoutSec: 30', 'timeoutSec: -4'))
  await waitFor(() => output.includes('reload refused'), 'the broken second save to be refused', () => output)
  t.match(output, /backendServices\[0\]\.timeoutSec/)
  await saveByRename(config, text.replace('timeoutSec: 30', 'timeoutSec: 32'))
  await waitFor(() => count(output, 'config reloaded (config file changed)') === 2, 'the third rename to reload', () => output)
  t.match(output, /config file changed/)

  child.kill('SIGTERM')
  await new Promise((resolve) => child.once('exit', resolve))
})
