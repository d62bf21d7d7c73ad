import { readFile } from 'node:fs/promises'
import type { ConfigErrorCode } from './errors.ts'
import { dirname, extname, resolve } from 'node:path'
import { isMap, isScalar, isSeq, parseDocument, type Node } from 'yaml'
import { quote } from '../internal/errors.ts'
import { ConfigError, IssueList, type ConfigIssue, type ConfigPath } from './issues.ts'
import { repairPastedPemBlocks } from './paste-repair.ts'
import { configSchema } from './schema.ts'
import type { SpiffeLbConfig } from './types.ts'
import { validateConfig } from './validate.ts'
import { addZodIssues } from './zod-issues.ts'

/** The outcome of loading a config: the resolved config, or every problem found. */
export type ConfigResult = { ok: true, config: SpiffeLbConfig } | { ok: false, errors: ConfigIssue[] }

export interface ParseOptions {
  /** Names the input in messages (usually the file path). */
  source: string
  /** Directory that relative paths (`pemFile`, `stateDir`, `certFile`) are resolved against. */
  baseDir: string
  /** `yaml` (default; JSON is YAML too) or `json` (strict JSON syntax). */
  format?: 'yaml' | 'json'
}

const TRUST_MAPS = new Set(['additionalTrustBundles', 'spiffeTrustStores'])

/**
 * Returns the config in `text` (config/schema.ts) checked against the schema and every rule,
 * with all problems reported at once, each with its path. Reads `pemFile` trust anchors from
 * `baseDir`. Never throws for a bad config.
 */
export function parseConfig (text: string, opts: ParseOptions): ConfigResult {
  const list = new IssueList()
  if (opts.format === 'json') {
    try {
      JSON.parse(text)
    } catch (err) {
      list.add([], 'ERR_SPIFFE_CONFIG_SYNTAX', `not valid json: ${err instanceof Error ? err.message : String(err)}`)
      return { ok: false, errors: list.issues }
    }
  }
  // JSON is parsed as YAML as well: JSON.parse silently keeps the last of two equal keys,
  // and a trust domain listed twice must be an error.
  const doc = parseDocument(repairPastedPemBlocks(text), { uniqueKeys: false, prettyErrors: true })
  // Only the first syntax error: the parser's later ones are consequences of it (one unclosed
  // quote yields a dozen), and its line and column is where the fix goes.
  const first = doc.errors[0]
  if (first !== undefined) {
    const at = first.linePos?.[0]
    const where = at === undefined ? '' : ` at line ${at.line}, column ${at.col}`
    const why = (first.message.split('\n')[0] ?? '').replace(/ at line \d+, column \d+:?$/, '').toLowerCase()
    list.add([], 'ERR_SPIFFE_CONFIG_SYNTAX', `not valid yaml${where}: ${why}`)
    return { ok: false, errors: list.issues }
  }
  findDuplicateKeys(doc.contents, [], list)
  if (list.size > 0) return { ok: false, errors: list.issues }
  const data: unknown = doc.toJS({ maxAliasCount: 100 })
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    list.add([], 'ERR_SPIFFE_CONFIG_TYPE', 'the config must be a mapping with "project", "backendServices", …')
    return { ok: false, errors: list.issues }
  }
  const parsed = configSchema.safeParse(data, { reportInput: true })
  if (!parsed.success) {
    addZodIssues(parsed.error.issues, list)
    return { ok: false, errors: list.issues }
  }
  const result = validateConfig(parsed.data, { source: opts.source, baseDir: opts.baseDir })
  return result.ok ? result : { ok: false, errors: result.issues.issues }
}

/** Records every key that appears twice in one mapping, with its path. */
function findDuplicateKeys (node: Node | null, path: ConfigPath, list: IssueList): void {
  if (isMap(node)) {
    const seen = new Set<string>()
    for (const pair of node.items) {
      const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key)
      if (seen.has(key)) {
        const inTrustMap = TRUST_MAPS.has(String(path[path.length - 1]))
        list.add([...path, key], inTrustMap ? 'ERR_SPIFFE_CONFIG_DUPLICATE_TRUST_DOMAIN' : 'ERR_SPIFFE_CONFIG_DUPLICATE_KEY',
          inTrustMap
            ? `trust domain ${quote(key)} is listed twice; a bundle map has one entry per domain`
            : `key ${quote(key)} appears twice in the same mapping`)
      }
      seen.add(key)
      findDuplicateKeys(pair.value as Node | null, [...path, key], list)
    }
  } else if (isSeq(node)) {
    node.items.forEach((item, i) => { findDuplicateKeys(item as Node | null, [...path, i], list) })
  }
}

/** Returns the config file at `path` loaded and checked (YAML, or JSON for `.json`). */
export async function loadConfigFile (path: string): Promise<ConfigResult> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (err) {
    const why = (err as NodeJS.ErrnoException).code ?? (err instanceof Error ? err.message : String(err))
    return { ok: false, errors: [{ path: '', code: 'ERR_SPIFFE_CONFIG_READ' satisfies ConfigErrorCode, message: `cannot read config file ${quote(path)}: ${why}` }] }
  }
  return parseConfig(text, {
    source: path,
    baseDir: dirname(resolve(path)),
    format: extname(path).toLowerCase() === '.json' ? 'json' : 'yaml'
  })
}

/** Returns the config at `path`; throws {@link ConfigError} (all issues attached) when it is invalid. */
export async function loadConfig (path: string): Promise<SpiffeLbConfig> {
  const result = await loadConfigFile(path)
  if (!result.ok) throw new ConfigError(path, result.errors)
  return result.config
}
