/** The answer for an empty list, shared and frozen: callers only read it. */
const NO_FIELDS: Record<string, string | string[]> = Object.freeze({})

/**
 * Returns undici-shaped response headers: lowercase names, repeated fields as arrays. A field
 * named `__proto__` is dropped: assigned, it would replace the object's prototype (and a
 * prototype-less object, the alternative, is a slow dictionary on every response).
 */
export function headerObject (raw: readonly string[]): Record<string, string | string[]> {
  if (raw.length === 0) return NO_FIELDS // most responses end without trailers
  const out: Record<string, string | string[]> = {}
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = (raw[i] ?? '').toLowerCase()
    if (name === '__proto__') continue
    const value = raw[i + 1] ?? ''
    const prev = out[name]
    out[name] = prev === undefined ? value : Array.isArray(prev) ? [...prev, value] : [prev, value]
  }
  return out
}
