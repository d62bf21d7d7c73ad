import { SpiffeLbError } from '../internal/errors.ts'
import type { ConfigErrorCode } from './errors.ts'

/** One problem found in a config file: where it is, which rule (stable code), and what is wrong. */
export interface ConfigIssue {
  /** The config path, e.g. `workloadIdentityPools[0].namespaces[1].id`; '' for the whole file. */
  path: string
  /**
   * A stable `ERR_SPIFFE_CONFIG_*` code, one per rule ({@link IssueList} takes only those); a
   * reload the runtime refuses reports the runtime's own code here.
   */
  code: string
  /** Lowercase, states the rule broken and quotes the offending value. */
  message: string
}

/** A path as a list of keys and indexes, turned into text only when an issue is reported. */
export type ConfigPath = ReadonlyArray<string | number>

const PLAIN_KEY = /^[A-Za-z_$][A-Za-z0-9_$-]*$/

/**
 * Returns `path` in the form users see in errors: `a[0].b`, with keys that are not plain words
 * (trust domains such as `example.org`) bracketed and quoted: `additionalTrustBundles["example.org"]`.
 */
export function formatPath (path: ConfigPath): string {
  let out = ''
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`
    else if (PLAIN_KEY.test(key)) out += out === '' ? key : `.${key}`
    else out += `[${JSON.stringify(key)}]`
  }
  return out
}

/** Returns an issue as one line: `path: message (CODE)`, or `source: message (CODE)` at the root. */
export function formatIssue (issue: ConfigIssue, source = 'config'): string {
  return `${issue.path === '' ? source : issue.path}: ${issue.message} (${issue.code})`
}

/** Collects issues during one validation pass so that every error is reported at once. */
export class IssueList {
  readonly issues: ConfigIssue[] = []

  /** Records that `path` breaks the rule `code`. */
  add (path: ConfigPath, code: ConfigErrorCode, message: string): void {
    this.issues.push({ path: formatPath(path), code, message })
  }

  /**
   * Records a thrown error under `code`. An error that already carries `code` is taken as it is;
   * another (e.g. from src/spiffe) is explained as `prefix: its message (ITS_CODE)`.
   */
  addError (path: ConfigPath, code: ConfigErrorCode, prefix: string, err: unknown): void {
    if (err instanceof SpiffeLbError && err.code === code) return this.add(path, code, err.message)
    const detail = err instanceof SpiffeLbError
      ? `${err.message} (${err.code})`
      : err instanceof Error ? err.message : String(err)
    this.add(path, code, `${prefix}: ${detail}`)
  }

  get size (): number { return this.issues.length }
}

/**
 * Thrown when a config is rejected; `issues` lists every problem with its path. Code
 * `ERR_SPIFFE_CONFIG_INVALID`; the CLI maps it to exit code 2 (docs/architecture.md#process-model).
 */
export class ConfigError extends SpiffeLbError<ConfigErrorCode> {
  readonly issues: readonly ConfigIssue[]

  constructor (source: string, issues: readonly ConfigIssue[]) {
    const first = issues[0]
    const more = issues.length > 1 ? ` (and ${issues.length - 1} more)` : ''
    super('ERR_SPIFFE_CONFIG_INVALID',
      `config ${JSON.stringify(source)} is invalid: ${first === undefined ? 'unknown error' : formatIssue(first, source)}${more}`,
      { at: source })
    this.name = 'ConfigError'
    this.issues = issues
  }
}
