/**
 * Builds the key paths error messages name, e.g.
 * `spiffeTrustStores["example.org"].trustAnchors[1].pemCertificate`.
 */

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/

/** Returns `base.name` for a schema field (`name` alone when `base` is empty). */
export function field (base: string, name: string): string {
  if (!IDENTIFIER.test(name)) return key(base, name)
  return base === '' ? name : `${base}.${name}`
}

/** Returns `base["k"]` for a map key, always quoted so dots in trust domains stay readable. */
export function key (base: string, k: string): string {
  return `${base}[${JSON.stringify(k)}]`
}

/** Returns `base[i]` for an array element. */
export function index (base: string, i: number): string {
  return `${base}[${i}]`
}

/** Returns true for a plain JSON object (not null, not an array). */
export function isObject (v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

/** Returns a short name of a JSON value's type for messages: `array`, `null`, `string`… */
export function typeName (v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v
}
