import t from 'tap'
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join, relative, dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

// DESIGN.md section 3: imports point down. `spiffe` and `pki` are pure leaves; data flows
// config → credentials → tls → proxy; only `cli` wires concrete pieces together.
const allowed: Record<string, readonly string[]> = {
  internal: [],
  spiffe: ['internal'],
  pki: ['internal'],
  config: ['internal', 'spiffe', 'pki'],
  credentials: ['internal', 'spiffe', 'pki', 'config'],
  tls: ['internal', 'spiffe'],
  proxy: ['internal', 'spiffe', 'tls'],
  admin: ['internal', 'spiffe', 'tls', 'proxy'],
  control: ['internal', 'spiffe', 'pki', 'config', 'credentials'],
  // Benchmarks drive the finished pieces like a user would; only the CLI starts them.
  bench: ['internal', 'spiffe', 'pki', 'config', 'credentials', 'tls', 'proxy', 'admin', 'control'],
  cli: ['internal', 'spiffe', 'pki', 'config', 'credentials', 'tls', 'proxy', 'admin', 'control', 'bench']
}

const src = resolve(dirname(fileURLToPath(import.meta.url)), '../src')

function * files (dir: string): Generator<string> {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name)
    if (statSync(p).isDirectory()) yield * files(p)
    else if (p.endsWith('.ts')) yield p
  }
}

t.test('modules import only the layers below them', async (t) => {
  const violations: string[] = []
  for (const file of files(src)) {
    const rel = relative(src, file)
    // Test code and test fixtures may reach across layers to build what they need.
    if (rel.endsWith('.test.ts') || rel.split('/').includes('testing')) continue
    const layer = rel.includes('/') ? rel.split('/')[0] ?? '' : '(root)'
    if (layer === '(root)') continue
    const text = readFileSync(file, 'utf8')
    for (const m of text.matchAll(/^\s*(?:import|export)\s[^'"]*?from\s+['"](\.[^'"]+)['"]/gm)) {
      const target = relative(src, resolve(dirname(file), m[1] ?? ''))
      const to = target.split('/')[0] ?? ''
      if (to === layer || target.startsWith('..')) continue
      if (!(allowed[layer] ?? []).includes(to)) violations.push(`${rel} imports ${target} (${layer} → ${to})`)
    }
  }
  t.same(violations, [], 'no import points up or sideways')
})
