/**
 * Stable error codes of the credentials layer that are defined here (public API: they appear in
 * `/status`, logs and the `reason` of rejected credential updates). Each says what broke, its
 * usual cause, and what to do.
 */
export const CREDENTIALS_ERROR = {
  /**
   * A credential file could not be opened or read (permissions, I/O error). Cause: the agent
   * writing the directory runs as another user, or the path is wrong. Fix the file's owner or
   * mode, or the configured path.
   */
  FILE_UNREADABLE: 'ERR_SPIFFE_CREDENTIALS_FILE_UNREADABLE',
  /**
   * A credential file (or its symlink target) is a FIFO, device, socket or directory. Cause: a
   * path pointed at `/dev/…` or a pipe. Point it at the regular file the agent writes.
   */
  FILE_NOT_REGULAR: 'ERR_SPIFFE_CREDENTIALS_FILE_NOT_REGULAR',
  /**
   * A credential file is larger than 1 MiB (`MAX_CREDENTIAL_FILE_BYTES`). Cause: the wrong file,
   * or a runaway writer. A chain, key or bundle map is a few KiB: check what the path holds.
   */
  FILE_TOO_LARGE: 'ERR_SPIFFE_CREDENTIALS_FILE_TOO_LARGE',
  /**
   * Reading a credential file took longer than 5 s (`CREDENTIAL_READ_TIMEOUT_MS`). Cause: a
   * hung network filesystem. The last good credentials stay and the next poll reads again.
   */
  READ_TIMEOUT: 'ERR_SPIFFE_CREDENTIALS_READ_TIMEOUT',
  /**
   * A private key file is writable by users other than its owner: anyone could swap the key.
   * `serve` refuses it. Run `chmod go-w` on the file (0600 is usual).
   */
  KEY_FILE_WRITABLE: 'ERR_SPIFFE_CREDENTIALS_KEY_FILE_WRITABLE'
} as const

/** One of the {@link CREDENTIALS_ERROR} codes. */
export type CredentialsErrorCode = typeof CREDENTIALS_ERROR[keyof typeof CREDENTIALS_ERROR]
