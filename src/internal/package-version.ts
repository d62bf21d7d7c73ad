import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'

// Resolved from this file, so '../../package.json' is spiffe-lb's own manifest both from
// src/internal/ (run from source) and from dist/internal/ (the installed package).
const require = createRequire(import.meta.url)

/**
 * Returns the `version` field of an installed package's manifest (`undici/package.json`), or of
 * spiffe-lb itself when called without an argument; `unknown` if it cannot be read.
 */
export function packageVersion (manifest = '../../package.json'): string {
  try {
    const parsed: unknown = JSON.parse(readFileSync(require.resolve(manifest), 'utf8'))
    const version = (parsed as { version?: unknown }).version
    return typeof version === 'string' ? version : 'unknown'
  } catch {
    return 'unknown'
  }
}
