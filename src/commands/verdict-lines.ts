import type { SpiffeLbError } from '../internal/errors.ts'

/**
 * Returns the verdict as `verify` and `probe` print it, in the same words: `accept <id>`, or one
 * `reject: <rule broken> (<code>)` line per broken rule, in the order the verifier checks them.
 */
export function verdictLines (failures: readonly Pick<SpiffeLbError, 'code' | 'message'>[], acceptedId: string | undefined): string[] {
  if (failures.length === 0) return [`accept ${acceptedId ?? ''}`.trimEnd()]
  return failures.map((f) => `reject: ${f.message} (${f.code})`)
}
