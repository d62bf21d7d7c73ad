import t from 'tap'
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import {
  edgeViolations, findCycles, findImports, layerOf, packageOf, packageViolations, parseRuleTable, unusedAllowances,
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
const commandImports: string[] = []
for (const file of files(src)) {
  const rel = relative(src, file)
  const targets: string[] = []
  for (const { spec } of findImports(readFileSync(file, 'utf8'))) {
    if (spec.startsWith('.')) {
      const target = relative(src, resolve(dirname(file), spec))
      targets.push(target)
      if (/^cli\/.*-command\.ts$/.test(target) && rel !== 'cli/commands.ts') commandImports.push(`${rel} imports ${target}`)
      if (!isTestSupport(rel) && layerOf(target) !== layerOf(rel)) edges.push({ from: layerOf(rel), to: layerOf(target), file: rel })
    } else if (!isTestSupport(rel)) {
      packages.push({ from: layerOf(rel), to: packageOf(spec), file: rel })
    }
  }
  graph.set(rel, targets)
}

t.test('the code follows docs/architecture.md#import-rules', async (t) => {
  t.ok(rules.size >= 10, 'the table was found and parsed')
  t.same(edgeViolations(edges, rules), [], 'no import outside the table')
  t.same(packageViolations(packages, rules), [], 'no external package outside a layer\'s list')
  t.same(unusedAllowances(edges, packages, rules), [], 'every allowed edge and package is used')
  t.same(findCycles(graph), [], 'no cycle between files')
  t.same(commandImports, [], 'nothing but the registry imports a command file')
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

  t.same([layerOf('proxy/proxy.ts'), layerOf('defaults.ts')], ['proxy', 'defaults'])
  t.same(['node:fs', '@peculiar/x509/sub', 'undici'].map(packageOf), ['node:', '@peculiar/x509', 'undici'])

  t.same(edgeViolations([{ from: 'a', to: 'b', file: 'a/x.ts' }], table), ['a/x.ts imports b (a → b is not allowed)'])
  t.same(edgeViolations([{ from: 'b', to: 'a', file: 'b/x.ts' }], table), [])
  t.same(edgeViolations([{ from: 'c', to: 'a', file: 'c/x.ts' }], table), ['c/x.ts: layer c is not in the table'])
  t.same(packageViolations([{ from: 'a', to: 'zod', file: 'a/x.ts' }], table), ["a/x.ts uses package zod, not in a's list"])
  t.same(unusedAllowances([], [{ from: 'a', to: 'node:', file: 'a/x.ts' }], table), ['b → a is allowed but unused', 'b may use zod but does not'])

  t.same(findCycles(new Map([['x', ['y']], ['y', ['z']], ['z', ['x']], ['w', ['x']]])), [['x', 'y', 'z']])
  t.same(findCycles(new Map([['x', ['x']]])), [['x']], 'a file importing itself')
  t.same(findCycles(new Map([['x', ['y']], ['y', []]])), [])
})
