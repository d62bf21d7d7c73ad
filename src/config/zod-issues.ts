import type { z } from 'zod'
import { quote } from '../internal/errors.ts'
import type { ConfigPath, IssueList } from './issues.ts'
import { ENUM_CODES, configSchema } from './schema.ts'
import { closestKey, knownKeysAt } from './key-suggestion.ts'

type ZodIssue = z.core.$ZodIssue

/** Returns a short type name of a parsed YAML/JSON value for "must be …, got …" messages. */
function typeName (value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'a list'
  if (typeof value === 'object') return 'a mapping'
  return `${typeof value} ${quote(value)}`
}

/**
 * Records zod's structural issues in our form: each with a stable code
 * (`ERR_SPIFFE_CONFIG_REQUIRED`, `_TYPE`, `_UNKNOWN_KEY`, `_EMPTY`, `_RANGE`, or the
 * enumeration's own code from {@link ENUM_CODES}) and a lowercase message quoting the value.
 */
export function addZodIssues (issues: readonly ZodIssue[], list: IssueList): void {
  for (const issue of issues) {
    const path: ConfigPath = issue.path.filter((k): k is string | number => typeof k !== 'symbol')
    const last = path[path.length - 1]
    switch (issue.code) {
      case 'invalid_type':
        if (issue.input === undefined) list.add(path, 'ERR_SPIFFE_CONFIG_REQUIRED', 'is required')
        else list.add(path, 'ERR_SPIFFE_CONFIG_TYPE', `must be ${issue.expected === 'int' ? 'an integer' : `${/^[aeiou]/.test(issue.expected) ? 'an' : 'a'} ${issue.expected}`}, got ${typeName(issue.input)}`)
        break
      case 'unrecognized_keys': {
        const known = knownKeysAt(configSchema, path)
        for (const key of issue.keys) {
          const near = closestKey(key, known)
          list.add([...path, key], 'ERR_SPIFFE_CONFIG_UNKNOWN_KEY', near === undefined
            ? `unknown key ${quote(key)} (misspelt, or not supported here${known.length === 0 ? '' : `; known keys: ${known.join(', ')}`})`
            : `unknown key ${quote(key)}: did you mean ${quote(near)}?`)
        }
        break
      }
      case 'invalid_value': {
        const code = (typeof last === 'string' ? ENUM_CODES[last] : undefined) ?? 'ERR_SPIFFE_CONFIG_ENUM'
        list.add(path, code, `must be one of ${issue.values.map(String).join(', ')}, got ${quote(issue.input)}`)
        break
      }
      case 'too_small':
        if (issue.origin === 'array') list.add(path, 'ERR_SPIFFE_CONFIG_EMPTY', 'must not be empty')
        else list.add(path, 'ERR_SPIFFE_CONFIG_RANGE', `must be at least ${String(issue.minimum)}, got ${quote(issue.input)}`)
        break
      case 'too_big':
        list.add(path, 'ERR_SPIFFE_CONFIG_RANGE', `must be at most ${String(issue.maximum)}, got ${quote(issue.input)}`)
        break
      case 'invalid_union':
        list.add(path, 'ERR_SPIFFE_CONFIG_TYPE', `has the wrong type, got ${typeName(issue.input)}`)
        break
      default:
        list.add(path, 'ERR_SPIFFE_CONFIG_TYPE', issue.message.toLowerCase())
    }
  }
}
