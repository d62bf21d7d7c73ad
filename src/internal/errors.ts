/**
 * What a user reads about one error code in docs/errors.md: each a single line, written for an
 * operator who met the code in a log, a `/status` field or a CLI message.
 */
export interface ErrorDoc {
  /** The rule that was broken. */
  readonly meaning: string
  /** The usual way it happens in practice. */
  readonly cause: string
  /** What the user should do about it. */
  readonly action: string
}

/** Returns an {@link ErrorDoc}; registries list many, so positional arguments keep them short. */
export function errorDoc (meaning: string, cause: string, action: string): ErrorDoc {
  return { meaning, cause, action }
}

/** A folder's error codes (`ERR_SPIFFE_…`), each with its {@link ErrorDoc}. */
export type ErrorRegistry = Readonly<Record<string, ErrorDoc>>

/**
 * A folder's registry together with the code prefixes it owns: a code `ERR_SPIFFE_<P>_…` belongs
 * to the one folder that declares `P` (`scripts/gen-docs.ts` and `test/error-registry.test.ts`
 * check it).
 */
export interface RegistryOwner {
  /** The `src/` folder that owns the codes. */
  readonly folder: string
  /** The `<P>` of `ERR_SPIFFE_<P>_…`, without the underscores around it. */
  readonly prefixes: readonly string[]
  readonly codes: ErrorRegistry
}

/** Where and why an error happened, besides its message. */
export interface ErrorOptions {
  /** Where the problem is: a config path (`backendServices[0].name`), a file, a flag. */
  at?: string
  cause?: unknown
}

/**
 * The one error type every spiffe-lb module throws. `code` is stable public API (`ERR_SPIFFE_…`,
 * listed in docs/errors.md); `message` is lowercase, states the rule broken and quotes the value.
 * It is abstract so that no code escapes the registries: a folder throws through the factory of
 * its `errors.ts` (see {@link errorFactory}), whose `code` parameter is that folder's union.
 */
export abstract class SpiffeLbError<C extends string = string> extends Error {
  readonly code: C
  /** Where the problem is: a config path (`backendServices[0].name`), a file, a field. */
  readonly at: string | undefined

  constructor (code: C, message: string, options: ErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.name = 'SpiffeLbError'
    this.code = code
    this.at = options.at
  }
}

/** The concrete error the factories make; only its base class is public. */
class CodedError<C extends string> extends SpiffeLbError<C> {}

/** Makes an error with code `code`; see {@link errorFactory}. */
export type ErrorFactory<C extends string> = (code: C, message: string, options?: ErrorOptions) => SpiffeLbError<C>

/**
 * Returns the error constructor of one folder: its `code` parameter accepts only the codes of
 * `registry`, so a misspelt or foreign code fails the type check.
 */
export function errorFactory<R extends ErrorRegistry> (registry: R): ErrorFactory<keyof R & string> {
  void registry // only its type matters: the factory is bound to this registry's codes
  return (code, message, options = {}) => new CodedError(code, message, options)
}

/** The codes of a registry `R` by short name: each code without the prefix `P`. */
export type CodesByShortName<R extends ErrorRegistry, P extends string> = {
  readonly [C in keyof R & string as C extends `${P}${infer S}` ? S : never]: C
}

/**
 * Returns the codes of `registry` by short name (`prefix` cut off), derived from the registry
 * so it cannot drift, for code that compares codes (`TLS_ERROR.NO_CREDENTIALS`).
 */
export function codesByShortName<R extends ErrorRegistry, P extends string> (registry: R, prefix: P): CodesByShortName<R, P> {
  return Object.freeze(Object.fromEntries(Object.keys(registry).map((code) => [code.slice(prefix.length), code]))) as CodesByShortName<R, P>
}

/**
 * Returns `err` again with `message` (usually the original message with context in front) and
 * `at`, keeping its code: the rule broken is still the original folder's, and so is the code.
 */
export function withContext<C extends string> (err: SpiffeLbError<C>, message: string, options: ErrorOptions = {}): SpiffeLbError<C> {
  return new CodedError(err.code, message, { cause: err, ...options })
}

/**
 * Returns an error raised before and kept as a record (a store's last error, a worker's reply
 * over IPC) as a {@link SpiffeLbError} again, with the code it was raised with; the code was
 * checked against its registry where it was first raised.
 */
export function restoreError (record: { readonly code: string, readonly message: string }, options: ErrorOptions = {}): SpiffeLbError {
  return new CodedError(record.code, record.message, options)
}

/** Returns true when `err` is a {@link SpiffeLbError}, optionally with the given code. */
export function isSpiffeLbError (err: unknown, code?: string): err is SpiffeLbError {
  return err instanceof SpiffeLbError && (code === undefined || err.code === code)
}

/** Quotes a value for an error message, shortened so a huge input cannot flood a log line. */
export function quote (value: unknown, max = 120): string {
  const s = typeof value === 'string' ? value : String(value)
  const shown = s.length > max ? `${s.slice(0, max)}…(${s.length} chars)` : s
  return JSON.stringify(shown)
}

/** Codes of the pure helpers in `src/internal` (PEM decoding, shared by every reader of PEM). */
export const INTERNAL_ERRORS = {
  ERR_SPIFFE_PEM_LABEL_MISMATCH: {
    meaning: 'a pem block ends with a different label than it begins with',
    cause: 'two pem files concatenated by hand, or a file edited in the middle of a block',
    action: 'make each "-----BEGIN X-----" end with the matching "-----END X-----"'
  },
  ERR_SPIFFE_PEM_ENCRYPTED: {
    meaning: 'a pem block has rfc 1421 headers (Proc-Type, DEK-Info), i.e. a legacy encrypted key',
    cause: 'a key written with a passphrase (openssl -des3, -aes256)',
    action: 'decrypt the key (openssl pkey -in key.pem -out plain.pem) and protect it by file permissions'
  },
  ERR_SPIFFE_PEM_BAD_BASE64: {
    meaning: 'the body of a pem block is not valid base64',
    cause: 'a corrupted or hand-edited file, or stray characters pasted into a block',
    action: 'write the file again from its source'
  },
  ERR_SPIFFE_PEM_TRUNCATED: {
    meaning: 'a pem block has a BEGIN line but no matching END line',
    cause: 'a half-written or truncated file, often read while another process was writing it',
    action: 'write credential files atomically (rename into place) and check the file is complete'
  }
} as const satisfies ErrorRegistry

/** One of the {@link INTERNAL_ERRORS} codes. */
export type InternalErrorCode = keyof typeof INTERNAL_ERRORS

/** Makes an error with one of the {@link INTERNAL_ERRORS} codes. */
export const internalError = errorFactory(INTERNAL_ERRORS)

/** `src/internal` owns the `PEM` prefix. */
export const INTERNAL_ERROR_REGISTRY: RegistryOwner = { folder: 'internal', prefixes: ['PEM'], codes: INTERNAL_ERRORS }
