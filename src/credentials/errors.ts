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
  KEY_FILE_WRITABLE: 'ERR_SPIFFE_CREDENTIALS_KEY_FILE_WRITABLE',
  /**
   * The Workload API endpoint is not `unix:///absolute/path` or `tcp://IP:port` (SPIFFE Workload
   * Endpoint §4). Usual cause: a relative unix path (`unix://run/agent.sock`), a DNS name or no
   * port in a tcp address. Fix `credentials.endpoint` or `SPIFFE_ENDPOINT_SOCKET`.
   */
  WORKLOAD_API_ENDPOINT: 'ERR_SPIFFE_CREDENTIALS_WORKLOAD_API_ENDPOINT',
  /**
   * `source: workload-api` without `credentials.endpoint` and without `SPIFFE_ENDPOINT_SOCKET`.
   * Set one of them to the agent's socket.
   */
  WORKLOAD_API_NO_ENDPOINT: 'ERR_SPIFFE_CREDENTIALS_WORKLOAD_API_NO_ENDPOINT',
  /**
   * The Workload API could not be reached or ended the stream (gRPC `Unavailable`, a closed
   * socket, a server restart). Retried with back-off; check that the agent runs and the socket
   * path is right if it persists.
   */
  WORKLOAD_API_UNAVAILABLE: 'ERR_SPIFFE_CREDENTIALS_WORKLOAD_API_UNAVAILABLE',
  /**
   * The Workload API answered `PermissionDenied`: it has no identity for this workload yet
   * (not registered, or attestation still running). Retried with back-off; register the workload.
   */
  WORKLOAD_API_NO_IDENTITY: 'ERR_SPIFFE_CREDENTIALS_WORKLOAD_API_NO_IDENTITY',
  /**
   * The Workload API answered `InvalidArgument` (the request was refused as malformed, e.g. the
   * `workload.spiffe.io` header missing). Not retried, per the spec: the source stops and stays
   * on its last good snapshot. Usually a proxy or server speaking another protocol version.
   */
  WORKLOAD_API_INVALID_ARGUMENT: 'ERR_SPIFFE_CREDENTIALS_WORKLOAD_API_INVALID_ARGUMENT',
  /**
   * Any other gRPC failure of the stream (status code and details in the message). Retried
   * with back-off.
   */
  WORKLOAD_API_RPC: 'ERR_SPIFFE_CREDENTIALS_WORKLOAD_API_RPC',
  /**
   * None of the delivered SVIDs has the backend service's `tlsSettings.identity`; the message
   * lists the IDs offered. Register the workload for that SPIFFE ID or fix the identity.
   */
  IDENTITY_NOT_DELIVERED: 'ERR_SPIFFE_CREDENTIALS_IDENTITY_NOT_DELIVERED',
  /**
   * A DER field of a Workload API message (SVID chain, key, bundle, CRL) is not well-formed:
   * truncated, trailing bytes, or not the structure it must be. The update is kept out and the
   * last good snapshot stays; the server is sending broken data.
   */
  DER_MALFORMED: 'ERR_SPIFFE_CREDENTIALS_DER_MALFORMED',
  /** A DER element runs past the end of its field: a truncated message or certificate. Kept out like {@link DER_MALFORMED}. */
  DER_TRUNCATED: 'ERR_SPIFFE_CREDENTIALS_DER_TRUNCATED',
  /**
   * A certificate field of a Workload API message holds something that is not a DER certificate
   * (not a SEQUENCE, or unreadable by X.509). Kept out like {@link DER_MALFORMED}.
   */
  DER_NOT_CERTIFICATE: 'ERR_SPIFFE_CREDENTIALS_DER_NOT_CERTIFICATE',
  /** The `x509_svid_key` field is not a PKCS#8 DER private key. Kept out; the server sends a broken key. */
  BAD_PRIVATE_KEY: 'ERR_SPIFFE_CREDENTIALS_BAD_PRIVATE_KEY',
  /**
   * A federated bundle key is not a trust domain (`example.org` or `spiffe://example.org`), or
   * names the same domain twice. The update is kept out.
   */
  BUNDLE_KEY: 'ERR_SPIFFE_CREDENTIALS_BUNDLE_KEY',
  /**
   * A trust domain arrives both as the SVID's own bundle or a federated bundle and from another
   * place of the same message (or from `additionalTrustBundles`): one bundle per domain, never
   * two anchor lists to choose from. Remove one of them.
   */
  DUPLICATE_TRUST_DOMAIN: 'ERR_SPIFFE_CREDENTIALS_DUPLICATE_TRUST_DOMAIN',
  /**
   * A CRL in the stream cannot be used: unparsable, not signed by an authority of any delivered
   * trust domain, or its signature does not verify. The update is kept out (fail closed).
   */
  CRL_INVALID: 'ERR_SPIFFE_CREDENTIALS_CRL_INVALID'
} as const

/** One of the {@link CREDENTIALS_ERROR} codes. */
export type CredentialsErrorCode = typeof CREDENTIALS_ERROR[keyof typeof CREDENTIALS_ERROR]
