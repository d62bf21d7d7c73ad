import t from 'tap'
import { readdirSync, statSync } from 'node:fs'
import { basename, dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

// docs/architecture.md#layers: a file's base name says what it is, once in the tree, so a
// search or a stack trace names one file. Only the per-folder conventions repeat.

const src = resolve(dirname(fileURLToPath(import.meta.url)), '..', 'src')
const SHARED = new Set(['index.ts', 'errors.ts', 'types.ts'])

function * files (dir: string): Generator<string> {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name)
    if (statSync(p).isDirectory()) yield * files(p)
    else if (p.endsWith('.ts')) yield relative(src, p)
  }
}

/** Returns `name: file, file` for each base name (conventions aside) that more than one file uses. */
export function sharedBaseNames (paths: readonly string[]): string[] {
  const byName = new Map<string, string[]>()
  for (const p of paths) {
    const name = basename(p)
    if (!SHARED.has(name)) byName.set(name, [...(byName.get(name) ?? []), p])
  }
  return [...byName].filter(([, ps]) => ps.length > 1).map(([name, ps]) => `${name}: ${ps.sort().join(', ')}`)
}

t.test('no two files under src/ share a base name (index.ts, errors.ts and types.ts aside)', async (t) => {
  const all = [...files(src)]
  t.ok(all.length > 200, `${all.length} files`)
  t.same(sharedBaseNames(all), [])
})

t.test('command code lives in commands/: no adapter outside it', async (t) => {
  t.same([...files(src)].filter((f) => f.endsWith('-command.ts') && !f.startsWith('commands/')), [])
})

t.test('the check fails on a clash', async (t) => {
  t.same(sharedBaseNames(['a/probe.ts', 'b/probe.ts', 'a/index.ts', 'b/index.ts', 'c/errors.ts', 'd/errors.ts']), ['probe.ts: a/probe.ts, b/probe.ts'])
  t.same(sharedBaseNames(['a/probe.ts', 'b/run-probe.ts']), [])
})
