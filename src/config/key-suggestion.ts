import type { z } from 'zod'

/**
 * "Did you mean" for unknown config keys: the keys the schema allows at the unknown key's
 * place, and the one of them closest to what was typed (edit distance, case ignored, so
 * `timeoutsec` finds `timeoutSec`).
 */

type Schema = z.core.$ZodType
type Def = Readonly<Record<string, unknown>> & { type: string }

const defOf = (schema: Schema): Def => schema._zod.def as unknown as Def
const asSchema = (value: unknown): Schema | undefined =>
  typeof value === 'object' && value !== null && '_zod' in value ? value as Schema : undefined

/** Returns the schemas a value at `path` under `schema` may have (several below a union). */
function schemasAt (schema: Schema, path: ReadonlyArray<string | number>): Schema[] {
  const def = defOf(schema)
  switch (def.type) {
    case 'optional': case 'default': case 'prefault': case 'nullable': case 'readonly': case 'catch': case 'nonoptional': {
      const inner = asSchema(def.innerType)
      return inner === undefined ? [] : schemasAt(inner, path)
    }
    case 'pipe': {
      const inner = asSchema(def.in)
      return inner === undefined ? [] : schemasAt(inner, path)
    }
    case 'union':
      return (Array.isArray(def.options) ? def.options : []).flatMap((o: unknown) => { const s = asSchema(o); return s === undefined ? [] : schemasAt(s, path) })
    default:
  }
  if (path.length === 0) return [schema]
  const [head, ...rest] = path
  let next: unknown
  if (def.type === 'object' && typeof head === 'string') next = (def.shape as Record<string, unknown>)[head]
  else if (def.type === 'array' && typeof head === 'number') next = def.element
  else if (def.type === 'record') next = def.valueType
  const s = asSchema(next)
  return s === undefined ? [] : schemasAt(s, rest)
}

/** Returns the keys the object schema(s) at `path` allow, in schema order. */
export function knownKeysAt (schema: Schema, path: ReadonlyArray<string | number>): string[] {
  const keys = schemasAt(schema, path).flatMap((s) => {
    const def = defOf(s)
    return def.type === 'object' ? Object.keys(def.shape as Record<string, unknown>) : []
  })
  return [...new Set(keys)]
}

/**
 * Returns the edit distance between `a` and `b`: inserts, deletes, substitutions and swaps of
 * two neighbours (`nmae` → `name`) count 1 each (optimal string alignment).
 */
export function editDistance (a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => i === 0 ? j : j === 0 ? i : 0))
  const at = (i: number, j: number): number => d[i]?.[j] ?? 0
  for (let i = 1; i <= a.length; i++) {
    const row = d[i] ?? []
    for (let j = 1; j <= b.length; j++) {
      let best = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + (a[i - 1] === b[j - 1] ? 0 : 1))
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, at(i - 2, j - 2) + 1)
      row[j] = best
    }
  }
  return at(a.length, b.length)
}

/**
 * Returns the candidate closest to `key` (case ignored), or undefined when none is close: at
 * most 1 edit for keys up to 4 characters, 2 up to 8, 3 beyond.
 */
export function closestKey (key: string, candidates: readonly string[]): string | undefined {
  const limit = key.length <= 4 ? 1 : key.length <= 8 ? 2 : 3
  let best: { key: string, distance: number } | undefined
  for (const candidate of candidates) {
    const distance = editDistance(key.toLowerCase(), candidate.toLowerCase())
    if (distance <= limit && (best === undefined || distance < best.distance)) best = { key: candidate, distance }
  }
  return best?.key
}
