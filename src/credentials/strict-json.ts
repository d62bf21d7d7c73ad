import { describeContent } from '../internal/content-summary.ts'
import { quote } from '../internal/errors.ts'
import { credentialsError } from './errors.ts'

/**
 * Returns `text` parsed as JSON, refusing an object that names the same key twice.
 * `JSON.parse` silently keeps the last duplicate; for a bundle map that would let a second
 * entry for a trust domain replace the first unnoticed, while the SPIFFE bundle rules say
 * duplicate trust domains are an error (docs/architecture.md#security-model).
 * Throws `ERR_SPIFFE_CREDENTIALS_BAD_JSON` or `ERR_SPIFFE_CREDENTIALS_DUPLICATE_KEY` with `source`
 * as `at` (a duplicate's message names the JSON path of the object).
 */
export function parseStrictJson (text: string, source: string): unknown {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (err) {
    // JSON.parse quotes the text around the error; a file pointed at the wrong place may hold
    // anything (a key, /etc/passwd), so only its position and a content summary are kept.
    const position = /position (\d+)/.exec((err as Error).message)?.[1]
    throw credentialsError('ERR_SPIFFE_CREDENTIALS_BAD_JSON',
      `content is not valid json (truncated or half-written?)${position === undefined ? '' : ` at position ${position}`} (${describeContent(text)})`, { at: source })
  }
  const dup = findDuplicateKey(text)
  if (dup !== undefined) {
    throw credentialsError('ERR_SPIFFE_CREDENTIALS_DUPLICATE_KEY',
      `json object ${quote(dup.path)} names key ${quote(dup.key)} twice`, { at: source })
  }
  return value
}

interface Frame { keys: Set<string> | undefined, path: string, lastKey: string, index: number }

/** Scans already-valid JSON text and returns the first duplicated object key, if any. */
function findDuplicateKey (text: string): { path: string, key: string } | undefined {
  const stack: Frame[] = []
  let expectKey = false
  for (let i = 0; i < text.length; i++) {
    const c = text[i]
    if (c === '"') {
      let j = i + 1
      while (text[j] !== '"') j += text[j] === '\\' ? 2 : 1
      const top = stack.at(-1)
      if (expectKey && top?.keys !== undefined) {
        const key = JSON.parse(text.slice(i, j + 1)) as string
        if (top.keys.has(key)) return { path: top.path, key }
        top.keys.add(key)
        top.lastKey = key
        expectKey = false
      }
      i = j
    } else if (c === '{' || c === '[') {
      const parent = stack.at(-1)
      const path = parent === undefined
        ? '$'
        : parent.keys !== undefined ? `${parent.path}.${parent.lastKey}` : `${parent.path}[${parent.index}]`
      stack.push({ keys: c === '{' ? new Set() : undefined, path, lastKey: '', index: 0 })
      expectKey = c === '{'
    } else if (c === '}' || c === ']') {
      stack.pop()
    } else if (c === ',') {
      const top = stack.at(-1)
      if (top?.keys !== undefined) expectKey = true
      else if (top !== undefined) top.index++
    }
  }
  return undefined
}
