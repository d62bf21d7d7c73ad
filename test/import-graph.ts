// Pure pieces of the import-rule check (test/import-rules.test.ts): each takes plain data, so
// the test can show each one failing on a tiny input.

/** One layer's row of the table in docs/architecture.md. */
export interface LayerRule { imports: ReadonlySet<string>, packages: ReadonlySet<string> }

/** One import found in a file. */
export interface FoundImport { spec: string, kind: 'static' | 'type' | 'dynamic' | 'require' }

/** Returns the rule table between the `import-rules:start` / `:end` markers of `markdown`. */
export function parseRuleTable (markdown: string): Map<string, LayerRule> {
  const start = markdown.indexOf('<!-- import-rules:start -->')
  const end = markdown.indexOf('<!-- import-rules:end -->')
  if (start < 0 || end < start) throw new Error('docs/architecture.md has no import-rules table')
  const rules = new Map<string, LayerRule>()
  const list = (cell: string | undefined): Set<string> =>
    new Set((cell ?? '').split(',').map((s) => s.trim()).filter((s) => s !== ''))
  for (const line of markdown.slice(start, end).split('\n')) {
    const cells = line.split('|').slice(1, -1).map((c) => c.trim())
    if (cells.length !== 3 || cells[0] === 'layer' || /^-+$/.test(cells[0] ?? '')) continue
    rules.set(cells[0] ?? '', { imports: list(cells[1]), packages: list(cells[2]) })
  }
  return rules
}

/**
 * Returns every module specifier `text` imports: static, `export … from`, side-effect, dynamic and
 * `require`. `import type` / `export type` are of kind `type`: erased, they load nothing at run time.
 */
export function findImports (text: string): FoundImport[] {
  const out: FoundImport[] = []
  const code = text.replace(/^\s*\/\/.*$/gm, '').replace(/\/\*[\s\S]*?\*\//g, '')
  for (const m of code.matchAll(/^\s*(?:import|export)\s(type\s)?(?:[^'"]*?\sfrom\s*)?['"]([^'"]+)['"]/gm)) out.push({ spec: m[2] ?? '', kind: m[1] === undefined ? 'static' : 'type' })
  for (const m of code.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g)) out.push({ spec: m[1] ?? '', kind: 'dynamic' })
  for (const m of code.matchAll(/(?:\brequire|\))\(\s*['"]([^'"]+)['"]\s*\)/g)) out.push({ spec: m[1] ?? '', kind: 'require' })
  return out
}

/** Returns the layer of a path relative to `src/`: its folder, or the root file's name without `.ts`. */
export function layerOf (rel: string): string {
  return rel.includes('/') ? rel.split('/')[0] ?? '' : rel.replace(/\.ts$/, '')
}

/**
 * Returns the folder of a path relative to `src/`, the node of the folder-level graph: its
 * directory (`commands/ca`, `bench/proxy`, `runtime`), with a `testing/` fixture folder counted
 * as its parent; a root file is its own folder (`defaults`).
 */
export function folderOf (rel: string): string {
  const parts = rel.split('/').slice(0, -1).filter((p) => p !== 'testing')
  return parts.length === 0 ? rel.replace(/\.ts$/, '') : parts.join('/')
}

/**
 * Returns a message per import from one subfolder of `parent` into another (`commands/probe`
 * importing `commands/verify`): such subfolders are independent, and what two of them share
 * lives in `parent` itself.
 */
export function siblingImports (edges: readonly Use[], parent: string): string[] {
  const sub = (folder: string): string | undefined => folder.startsWith(`${parent}/`) ? folder : undefined
  return edges.filter((e) => sub(e.from) !== undefined && sub(e.to) !== undefined && e.from !== e.to)
    .map((e) => `${e.file} imports ${e.to} (${e.from} and ${e.to} are sibling folders of ${parent}/)`)
}

/** Returns the package name of a bare specifier: `node:` for built-ins, `@scope/name` or `name`. */
export function packageOf (spec: string): string {
  if (spec.startsWith('node:')) return 'node:'
  const parts = spec.split('/')
  return spec.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0] ?? spec
}

/** A layer-level edge or package use, with the file that makes it. */
export interface Use { from: string, to: string, file: string }

/** Returns a message per layer edge that the rules do not allow. */
export function edgeViolations (edges: readonly Use[], rules: ReadonlyMap<string, LayerRule>): string[] {
  const out: string[] = []
  for (const e of edges) {
    const rule = rules.get(e.from)
    if (rule === undefined) out.push(`${e.file}: layer ${e.from} is not in the table`)
    else if (!rule.imports.has(e.to)) out.push(`${e.file} imports ${e.to} (${e.from} → ${e.to} is not allowed)`)
  }
  return out
}

/** Returns a message per external package a layer uses outside its list. */
export function packageViolations (uses: readonly Use[], rules: ReadonlyMap<string, LayerRule>): string[] {
  return uses.filter((u) => rules.get(u.from)?.packages.has(u.to) !== true)
    .map((u) => `${u.file} uses package ${u.to}, not in ${u.from}'s list`)
}

/** Returns a message per allowed edge or package that no file uses. */
export function unusedAllowances (edges: readonly Use[], packages: readonly Use[], rules: ReadonlyMap<string, LayerRule>): string[] {
  const used = new Set([...edges, ...packages].map((e) => `${e.from} ${e.to}`))
  const out: string[] = []
  for (const [layer, rule] of rules) {
    for (const to of rule.imports) if (!used.has(`${layer} ${to}`)) out.push(`${layer} → ${to} is allowed but unused`)
    for (const p of rule.packages) if (!used.has(`${layer} ${p}`)) out.push(`${layer} may use ${p} but does not`)
  }
  return out
}

/** Returns every cycle between files of `graph` (file → files it imports), each as its files sorted. */
export function findCycles (graph: ReadonlyMap<string, readonly string[]>): string[][] {
  let next = 0
  const index = new Map<string, number>()
  const low = new Map<string, number>()
  const stack: string[] = []
  const onStack = new Set<string>()
  const cycles: string[][] = []
  const visit = (v: string): void => {
    index.set(v, next); low.set(v, next); next++
    stack.push(v); onStack.add(v)
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue
      if (!index.has(w)) { visit(w); low.set(v, Math.min(low.get(v) ?? 0, low.get(w) ?? 0)) } else if (onStack.has(w)) low.set(v, Math.min(low.get(v) ?? 0, index.get(w) ?? 0))
    }
    if (low.get(v) === index.get(v)) {
      const scc: string[] = []
      let w: string | undefined
      do { w = stack.pop(); if (w !== undefined) { onStack.delete(w); scc.push(w) } } while (w !== undefined && w !== v)
      if (scc.length > 1 || (graph.get(v) ?? []).includes(v)) cycles.push(scc.sort())
    }
  }
  for (const v of graph.keys()) if (!index.has(v)) visit(v)
  return cycles
}
