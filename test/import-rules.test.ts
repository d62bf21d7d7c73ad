import t from 'tap'
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import {
  edgeViolations, findCycles, findImports, folderOf, layerOf, siblingImports, packageOf, packageViolations, parseRuleTable, unusedAllowances,
  type LayerRule, type Use
} from './import-graph.ts'

// The import rules are the table in docs/architecture.md#import-rules: this test reads it, so
// the document and the check cannot drift apart.

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const src = join(root, 'src')

function * files (dir: string): Generator<string> {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name)
    if (statSync(p).isDirectory()) yield * files(p)
    else if (p.endsWith('.ts')) yield p
  }
}

/** Test code and its fixtures may reach across layers (the files tsconfig.build.json leaves out). */
const isTestSupport = (rel: string): boolean => rel.endsWith('.test.ts') || rel.split('/').includes('testing') ||
  rel.endsWith('/test-support.ts') || rel.endsWith('/source-suite.ts')

const rules = parseRuleTable(readFileSync(join(root, 'docs/architecture.md'), 'utf8'))
const edges: Use[] = []
const packages: Use[] = []
const graph = new Map<string, string[]>()
const folders = new Map<string, Set<string>>()
const folderEdges: Use[] = []
const commandImports: string[] = []
for (const file of files(src)) {
  const rel = relative(src, file)
  const targets: string[] = []
  for (const { spec } of findImports(readFileSync(file, 'utf8'))) {
    if (spec.startsWith('.')) {
      const target = relative(src, resolve(dirname(file), spec))
      targets.push(target)
      if (/^commands\/[^/]+\/[^/]+-command\.ts$/.test(target) && rel !== 'cli/command-registry.ts') commandImports.push(`${rel} imports ${target}`)
      if (!isTestSupport(rel) && layerOf(target) !== layerOf(rel)) edges.push({ from: layerOf(rel), to: layerOf(target), file: rel })
      if (!isTestSupport(rel) && folderOf(target) !== folderOf(rel)) {
        folderEdges.push({ from: folderOf(rel), to: folderOf(target), file: rel })
        const out = folders.get(folderOf(rel)) ?? new Set<string>()
        folders.set(folderOf(rel), out.add(folderOf(target)))
      }
    } else if (!isTestSupport(rel)) {
      packages.push({ from: layerOf(rel), to: packageOf(spec), file: rel })
    }
  }
  graph.set(rel, targets)
  if (!folders.has(folderOf(rel))) folders.set(folderOf(rel), new Set())
}
const folderGraph = new Map([...folders].map(([f, to]) => [f, [...to]]))

t.test('the code follows docs/architecture.md#import-rules', async (t) => {
  t.ok(rules.size >= 10, 'the table was found and parsed')
  t.same(edgeViolations(edges, rules), [], 'no import outside the table')
  t.same(packageViolations(packages, rules), [], 'no external package outside a layer\'s list')
  t.same(unusedAllowances(edges, packages, rules), [], 'every allowed edge and package is used')
  t.same(findCycles(graph), [], 'no cycle between files')
  t.same(findCycles(folderGraph), [], 'no two folders import each other, directly or around a loop')
  t.same(siblingImports(folderEdges, 'commands'), [], 'a command folder imports no other command folder')
  t.same(commandImports, [], 'nothing but the registry imports a command adapter (commands/<name>/<name>-command.ts)')
})

t.test('each check fails on a tiny bad input', async (t) => {
  const table = parseRuleTable([
    '<!-- import-rules:start -->', '| layer | may import | external packages |', '| --- | --- | --- |',
    '| a | | node: |', '| b | a | zod |', '<!-- import-rules:end -->'
  ].join('\n'))
  t.same([...table.keys()], ['a', 'b'])
  t.same(table.get('b'), { imports: new Set(['a']), packages: new Set(['zod']) } satisfies LayerRule)
  t.throws(() => parseRuleTable('no table here'))

  const imports: Array<[string, string[]]> = [
    ["import { x } from './a.ts'", ['./a.ts']],
    ["import type { X } from '../b/c.ts'", ['../b/c.ts']],
    ["export { y } from './d.ts'", ['./d.ts']],
    ["import 'reflect-metadata'", ['reflect-metadata']],
    ["const m = await import('./lazy.ts')", ['./lazy.ts']],
    ["const ac = createRequire(import.meta.url)('autocannon')", ['autocannon']],
    ["// import { z } from './commented.ts'", []],
    ["const s = 'import from nowhere'", []]
  ]
  for (const [text, specs] of imports) t.same(findImports(text).map((i) => i.spec), specs, text)
  t.same(findImports("import type { X } from './t.ts'\nimport { y } from './y.ts'\nexport type { Z } from './z.ts'").map((i) => i.kind),
    ['type', 'static', 'type'], 'type-only imports load nothing at run time')

  t.same([layerOf('proxy/proxy.ts'), layerOf('defaults.ts'), layerOf('commands/ca/ca-create.ts')], ['proxy', 'defaults', 'commands'])
  t.same(['commands/ca/ca-create.ts', 'commands/trust-inputs.ts', 'bench/proxy/proxy-world.ts', 'spiffe/testing/spiffe-fixtures.ts', 'enums.ts'].map(folderOf),
    ['commands/ca', 'commands', 'bench/proxy', 'spiffe', 'enums'])
  t.same(siblingImports([{ from: 'commands/probe', to: 'commands/verify', file: 'commands/probe/p.ts' },
    { from: 'commands/probe', to: 'commands', file: 'commands/probe/q.ts' }, { from: 'bench/soak', to: 'bench/proxy', file: 'bench/soak/s.ts' }], 'commands'),
  ['commands/probe/p.ts imports commands/verify (commands/probe and commands/verify are sibling folders of commands/)'])
  t.same(['node:fs', '@peculiar/x509/sub', 'undici'].map(packageOf), ['node:', '@peculiar/x509', 'undici'])

  t.same(edgeViolations([{ from: 'a', to: 'b', file: 'a/x.ts' }], table), ['a/x.ts imports b (a → b is not allowed)'])
  t.same(edgeViolations([{ from: 'b', to: 'a', file: 'b/x.ts' }], table), [])
  t.same(edgeViolations([{ from: 'c', to: 'a', file: 'c/x.ts' }], table), ['c/x.ts: layer c is not in the table'])
  t.same(packageViolations([{ from: 'a', to: 'zod', file: 'a/x.ts' }], table), ["a/x.ts uses package zod, not in a's list"])
  t.same(unusedAllowances([], [{ from: 'a', to: 'node:', file: 'a/x.ts' }], table), ['b → a is allowed but unused', 'b may use zod but does not'])

  t.same(findCycles(new Map([['x', ['y']], ['y', ['z']], ['z', ['x']], ['w', ['x']]])), [['x', 'y', 'z']])
  t.same(findCycles(new Map([['x', ['x']]])), [['x']], 'a file importing itself')
  t.same(findCycles(new Map([['x', ['y']], ['y', []]])), [])
  t.same(findCycles(new Map([['commands', ['runtime']], ['runtime', ['commands']]])), [['commands', 'runtime']], 'two folders importing each other')
})
