import t from 'tap'
import { spawnSync } from 'node:child_process'
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { findImports } from './import-graph.ts'

// src/internal/node-http.ts: an ESM import of node:http reads its WebSocket/MessageEvent getters,
// which load Node's bundled undici into every process (about 8 MiB of RSS in `serve`).

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const src = join(root, 'src')
const OWNER = 'internal/node-http.ts'

function * files (dir: string): Generator<string> {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name)
    if (statSync(p).isDirectory()) yield * files(p)
    else if (p.endsWith('.ts') && !p.endsWith('.test.ts')) yield relative(src, p)
  }
}

/** Returns true when importing `specifiers` (then `extra` code) loaded Node's bundled undici. */
function loadsBundledUndici (specifiers: readonly string[], extra = ''): boolean {
  const code = `${specifiers.map((s) => `await import(${JSON.stringify(s)})`).join('; ')}; ${extra}
process.stdout.write(String(process.moduleLoadList.some((m) => m.includes('internal/deps/undici'))))`
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], { encoding: 'utf8' })
  if (r.status !== 0) throw new Error(`child failed: ${r.stderr}`)
  return r.stdout === 'true'
}

t.test('node:http is imported as a value only by its owner', async (t) => {
  const valueImports = [...files(src)].filter((f) => f !== OWNER && !f.endsWith('test-support.ts'))
    .filter((f) => findImports(readFileSync(join(src, f), 'utf8')).some((i) => i.spec === 'node:http' && i.kind !== 'type'))
  t.same(valueImports, [], `import { http } from '${OWNER}' instead (import type stays free)`)
})

t.test('serve and its cluster workers load no part of Node\'s bundled undici', async (t) => {
  const entries = ['commands/serve/serve.ts', 'runtime/cluster-worker.ts', 'runtime/bootstrap.ts', 'admin/admin-server.ts']
    .map((f) => pathToFileURL(join(src, f)).href)
  t.equal(loadsBundledUndici(entries), false)
  // Why the owner exists: on this Node an ESM import of node:http does load it.
  t.equal(loadsBundledUndici(['node:http']), true, 'if this fails, Node stopped loading undici for node:http and the owner can go')
  t.equal(loadsBundledUndici([pathToFileURL(join(src, OWNER)).href], 'await import("node:net")'), false)
})
