import { SpiffeLbError, quote } from '../internal/errors.ts'
import { configError } from './errors.ts'
import { DURATION_SYNTAX, parseDurationMs } from '../internal/duration.ts'

/**
 * Leaf-value parsers of the config format (config/schema.ts). Each returns the parsed value
 * or throws a {@link SpiffeLbError} with the rule's own `ERR_SPIFFE_CONFIG_*` code; the
 * validator catches it and records it under the field's path.
 */

/** Pool IDs: 4–32 chars of [a-z0-9-], starting and ending alphanumeric (seeds: pool create). */
export const POOL_ID = /^[a-z0-9][a-z0-9-]{2,30}[a-z0-9]$/
/** Namespace and managed identity IDs: 2–63 chars, same alphabet (seeds: namespaces create). */
export const NAMESPACE_ID = /^[a-z0-9][a-z0-9-]{0,61}[a-z0-9]$/
/** Google Cloud resource names (RFC 1035 label): backend services, path matchers. */
export const RESOURCE_NAME = /^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/
/** CA IDs: up to 64 chars of letters, digits, underscores and hyphens (seeds: roots create). */
export const CA_ID = /^[A-Za-z0-9_-]{1,64}$/

/**
 * Returns a config duration in milliseconds: the cloud's protobuf-JSON form (`"86400s"`,
 * `"0.5s"`, as gcloud prints it) or any other form of internal/duration.ts (`500ms`, `5m`,
 * `24h`). Throws `ERR_SPIFFE_CONFIG_DURATION`; the validator records it under the field's path.
 */
export function parseDuration (text: string): number {
  const ms = parseDurationMs(text)
  if (ms === undefined) {
    throw configError('ERR_SPIFFE_CONFIG_DURATION', `duration must be ${DURATION_SYNTAX}, got ${quote(text)}`)
  }
  return ms
}



/** Returns true when `text` is an http(s) URL (the metadata server base URL). */
export function isHttpUrl (text: string): boolean {
  try {
    const url = new URL(text)
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== ''
  } catch {
    return false
  }
}

/** Returns the error message of an ID that breaks `pattern`'s length/alphabet rule. */
export function idRuleMessage (what: string, min: number, max: number, value: string): string {
  return `${what} must be ${min} to ${max} characters of lowercase letters, digits and hyphens, ` +
    `starting and ending with a letter or digit, got ${quote(value)}`
}
