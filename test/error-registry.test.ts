import { readFileSync, readdirSync, statSync } from 'node:fs'
import { join, relative, sep } from 'node:path'
import t from 'tap'
import type { RegistryOwner } from '../src/internal/errors.ts'
import { spiffeError } from '../src/spiffe/errors.ts'
import { ROOT, loadRegistries, renderErrorsDoc } from '../scripts/docs.ts'
import { parseRuleTable } from './import-graph.ts'

/** Every `.ts` file under `dir`, relative to the repository root. */
function tsFiles (dir: string): string[] {
  return readdirSync(join(ROOT, dir)).flatMap((name) => {
    const rel = join(dir, name)
    return statSync(join(ROOT, rel)).isDirectory() ? tsFiles(rel) : rel.endsWith('.ts') ? [rel] : []
  })
}

const isTest = (file: string): boolean => file.endsWith('.test.ts') || file.split(sep)[0] === 'test'
const registries = await loadRegistries()
const owner = new Map<string, RegistryOwner>(registries.map((r) => [r.folder, r]))
const allCodes = new Map<string, string>(registries.flatMap((r) => Object.keys(r.codes).map((c) => [c, r.folder] as const)))
const sources = [...tsFiles('src'), ...tsFiles('test')].map((file) => ({ file, text: readFileSync(join(ROOT, file), 'utf8') }))
/** Codes in the code of a source file (whole-line comments left out): thrown, compared, reported or printed. */
const literals = (text: string): string[] => [...text.replace(/^\s*\/\*[\s\S]*?\*\/|^\s*\/\/.*$/gm, '')
  .matchAll(/\bERR_SPIFFE_[A-Z0-9_]*[A-Z0-9]\b/g)].map((m) => m[0])
/**
 * The bin checks the Node version before it may import anything (no factory, no registry), so it
 * prints the code as text; the code is registered with its owner, src/process.
 */
const PRINTED_BEFORE_IMPORTS = new Map([['src/cli/main.ts', ['ERR_SPIFFE_CLI_NODE_VERSION']]])

t.test('docs/errors.md is the document generated from the registries', async (t) => {
  const committed = readFileSync(join(ROOT, 'docs', 'errors.md'), 'utf8')
  t.equal(committed, renderErrorsDoc(registries), 'run `npm run docs` and commit docs/errors.md')
  for (const code of allCodes.keys()) t.ok(committed.includes(`### \`${code}\``), `${code} is documented`)
})

t.test('each registry lives in the folder it names, and each entry is one line of each kind', async (t) => {
  t.ok(registries.length >= 10, `${registries.length} registries`)
  for (const r of registries) {
    t.ok(statSync(join(ROOT, 'src', r.folder, 'errors.ts')).isFile(), `src/${r.folder}/errors.ts`)
    for (const [code, doc] of Object.entries(r.codes)) {
      for (const text of [doc.meaning, doc.cause, doc.action]) {
        t.ok(text.length > 0 && !text.includes('\n') && !text.endsWith('.'), `${code}: one line, no final period: ${JSON.stringify(text)}`)
      }
    }
  }
})

t.test('a prefix is declared by one folder, and every code has exactly its own folder\'s prefix', async (t) => {
  const declared = new Map<string, string>()
  for (const r of registries) {
    for (const p of r.prefixes) {
      t.equal(declared.get(p), undefined, `prefix ${p} declared by ${r.folder} and ${declared.get(p) ?? ''}`)
      declared.set(p, r.folder)
    }
  }
  for (const [code, folder] of allCodes) {
    const matching = [...declared].filter(([p]) => code.startsWith(`ERR_SPIFFE_${p}_`))
    t.same(matching.map(([, f]) => f), [folder], `${code} matches the prefixes of ${folder} only`)
  }
})

/**
 * The folders whose registries a folder may raise codes from: its own and the folders it may
 * import (docs/architecture.md#import-rules). A code shared by layers (`CLI`: what a command was
 * given, raised by the flag parsers in process/, the commands and the testbed) is owned by the
 * lowest of them and raised from above through its owner's factory.
 */
const rules = parseRuleTable(readFileSync(join(ROOT, 'docs', 'architecture.md'), 'utf8'))
const reachable = (folder: string): string[] => [folder, ...(rules.get(folder)?.imports ?? [])]

t.test('every code literal in a source file is in the registry of that file\'s folder or of a folder it may import', async (t) => {
  let checked = 0
  for (const { file, text } of sources.filter((s) => !isTest(s.file))) {
    const folder = relative('src', file).split(sep)[0] ?? ''
    for (const code of literals(text)) {
      checked++
      if (PRINTED_BEFORE_IMPORTS.get(file)?.includes(code) === true) continue
      const from = reachable(folder).filter((f) => Object.hasOwn(owner.get(f)?.codes ?? {}, code))
      t.equal(from.length, 1, `${file}: ${code} is in src/${folder}/errors.ts or a registry below it (its owner: ${allCodes.get(code) ?? 'none'})`)
    }
  }
  t.ok(checked > 250, `${checked} literals checked`)
})

t.test('every registered code is used in src (no dead entries)', async (t) => {
  const used = new Set(sources.filter((s) => !isTest(s.file)).flatMap((s) => literals(s.text)))
  for (const code of allCodes.keys()) t.ok(used.has(code), `${code} is raised or reported somewhere in src`)
})

t.test('every code a test names exists (no stale assertions)', async (t) => {
  const prefixes = registries.flatMap((r) => r.prefixes.map((p) => `ERR_SPIFFE_${p}`))
  for (const { file, text } of sources.filter((s) => isTest(s.file) && !s.file.endsWith('error-registry.test.ts'))) {
    for (const m of text.matchAll(/ERR_SPIFFE_[A-Z0-9_]*[A-Z0-9]/g)) {
      const code = m[0]
      // A prefix (in a pattern like /ERR_SPIFFE_VERIFY_/) is fine when a folder declares it.
      t.ok(allCodes.has(code) || prefixes.includes(code), `${file}: ${code} exists`)
    }
  }
})

t.test('a folder\'s factory raises its own codes and refuses others at compile time', async (t) => {
  const err = spiffeError('ERR_SPIFFE_VERIFY_NO_BUNDLE', 'no trust bundle for trust domain "x.test"', { at: 'x' })
  t.match(err, { name: 'SpiffeLbError', code: 'ERR_SPIFFE_VERIFY_NO_BUNDLE', at: 'x' })
  // @ts-expect-error a code of another folder does not type-check
  t.equal(spiffeError('ERR_SPIFFE_TLS_NO_CREDENTIALS', 'm').code, 'ERR_SPIFFE_TLS_NO_CREDENTIALS')
})
