import { createHash } from 'node:crypto'
import { quote } from '../internal/errors.ts'
import { configError } from './errors.ts'

/**
 * The namespace of spiffe-lb's derived resource IDs. Fixed forever: changing it renames every
 * `mi-bac-…`, `mi-crt-…` and `mi-tc-…` resource of every existing config.
 */
export const DERIVED_RESOURCE_NAMESPACE = '8accf588-74cf-4bd8-b130-424b611782ba'

/**
 * Returns the name-based (version 5, SHA-1) UUID of `name` in `namespace` (RFC 9562 section
 * 5.5): the same inputs always give the same UUID, so restarts and `describe` agree.
 */
export function uuidV5 (namespace: string, name: string): string {
  const ns = Buffer.from(namespace.replace(/-/g, ''), 'hex')
  if (ns.length !== 16) throw configError('ERR_SPIFFE_CONFIG_DERIVE_INPUT', `uuid namespace must be a uuid, got ${quote(namespace)}`)
  const hash = createHash('sha1').update(ns).update(name, 'utf8').digest()
  const bytes = hash.subarray(0, 16)
  bytes[6] = ((bytes[6] ?? 0) & 0x0f) | 0x50
  bytes[8] = ((bytes[8] ?? 0) & 0x3f) | 0x80
  const hex = bytes.toString('hex')
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`
}
