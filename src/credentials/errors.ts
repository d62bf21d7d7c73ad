import { codesByShortName, errorDoc as e, errorFactory, type ErrorRegistry, type RegistryOwner } from '../internal/errors.ts'

/**
 * Codes of the credential sources and the credential store (`src/credentials`): the GCE file
 * layout, the metadata server client, the Workload API client, issuance, and the checks before
 * a snapshot goes live.
 */
export const CREDENTIALS_ERRORS = {
  ERR_SPIFFE_CREDENTIALS_BAD_JSON: e('a credential json file or metadata document is not valid json', 'a half-written or truncated file read during a write', 'write credential files atomically; the last good credentials stay in force meanwhile'),
  ERR_SPIFFE_CREDENTIALS_DUPLICATE_KEY: e('a credential json object names the same key twice', 'a hand-edited or concatenated json file', 'remove the duplicate key; which one was meant cannot be guessed'),
  ERR_SPIFFE_CREDENTIALS_BAD_SNAPSHOT_MESSAGE: e('a credential snapshot sent to a worker has a generation that is not a positive integer', 'a corrupted message on the cluster ipc pipe (an internal fault)', 'restart `serve`; report it if it repeats'),
  ERR_SPIFFE_CREDENTIALS_BAD_URL: e('the metadata url is not an http or https url', 'a typo, or a url without scheme', 'give an url like "http://127.0.0.1:8899"'),
  ERR_SPIFFE_CREDENTIALS_CONFIG_STATUS: e('the workload certificate config reports errors (partnerMetadataConfigsErrors)', 'the control plane could not apply the instance\'s workload certificate config', 'fix the errors it lists in the control plane'),
  ERR_SPIFFE_CREDENTIALS_DIRECTORY_CHANGED: e('the credential directory was swapped while it was being read', 'a rotation by the agent during the read (normal, retried)', 'nothing if it clears on the next refresh; else check what rewrites the directory'),
  ERR_SPIFFE_CREDENTIALS_DIRECTORY_MISSING: e('the credential directory does not exist', 'the agent has not provisioned it yet, or a wrong credentials.directory', 'start the agent, or fix the directory path'),
  ERR_SPIFFE_CREDENTIALS_FILE_MISSING: e('a credential file is missing: one of the gce credential layout, or the frontend tls certificate or key the config names', 'credentials not provisioned yet, only part of the layout written, or a wrong frontend.tls path', 'write certificates.pem, private_key.pem and trust_bundles.json (and config_status) together; fix frontend.tls paths'),
  ERR_SPIFFE_CREDENTIALS_FILE_UNREADABLE: e('a credential file could not be opened or read (permissions, i/o error)', 'the agent writing the directory runs as another user, or the path is wrong', 'fix the file\'s owner or mode, or the configured path'),
  ERR_SPIFFE_CREDENTIALS_FILE_NOT_REGULAR: e('a credential file (or its symlink target) is a fifo, device, socket or directory, so it is not read', 'a path pointed at /dev/… or at a pipe', 'point the path at the regular file the agent writes'),
  ERR_SPIFFE_CREDENTIALS_FILE_TOO_LARGE: e('a credential file is larger than 1 MiB (MAX_CREDENTIAL_FILE_BYTES), so it is not read', 'the wrong file, or a runaway writer', 'check what the path holds: a chain, key or bundle map is a few KiB'),
  ERR_SPIFFE_CREDENTIALS_READ_TIMEOUT: e('reading a credential file took longer than 5 s (CREDENTIAL_READ_TIMEOUT_MS)', 'a hung network filesystem', 'fix the filesystem; the last good credentials stay and the next poll reads again'),
  ERR_SPIFFE_CREDENTIALS_KEY_FILE_WRITABLE: e('the private key file is writable by users other than its owner: anyone could swap the key, so serve refuses it', 'a key file written with a loose umask or mode (e.g. 0666)', 'run chmod go-w on the file (0600 is usual)'),
  ERR_SPIFFE_CREDENTIALS_DUPLICATE_TRUST_DOMAIN: e('a trust domain comes twice: from the credential source and from additionalTrustBundles, or as a workload api svid\'s own bundle and as a federated bundle', 'a domain configured locally that the source now delivers too, or a server federating with its own domain', 'remove the domain from additionalTrustBundles; one source answers for each domain'),
  ERR_SPIFFE_CREDENTIALS_EXPIRED: e('the svid is expired, so it is not put in force', 'rotation stopped or a stale file in the credential directory', 'check the credential source; the proxy fails closed until a valid svid arrives'),
  ERR_SPIFFE_CREDENTIALS_NOT_YET_VALID: e('the svid is not valid yet, so it is not put in force', 'clock skew between issuer and this host', 'synchronize clocks'),
  ERR_SPIFFE_CREDENTIALS_KEY_MISMATCH: e('the private key does not match the svid leaf certificate', 'certificate and key files from two different rotations', 'write certificate and key together, atomically'),
  ERR_SPIFFE_CREDENTIALS_WRONG_IDENTITY: e('the delivered svid is not the configured identity', 'a credential directory or metadata server of another workload', 'point the source at this workload\'s credentials, or fix the configured identity'),
  ERR_SPIFFE_CREDENTIALS_NO_OWN_BUNDLE: e('no trust bundle for the svid\'s own trust domain', 'trust_bundles.json (or trust-anchors) lacks the workload\'s own domain', 'deliver the own domain\'s bundle together with the svid'),
  ERR_SPIFFE_CREDENTIALS_IDENTITY_NOT_DELIVERED: e('the metadata server or workload api delivers no svid for the configured identity (the message lists the ids offered)', 'the instance is bound to another managed identity, or the workload is registered under another spiffe id', 'bind the identity to the instance, or configure the one it has'),
  ERR_SPIFFE_CREDENTIALS_METADATA_HTTP: e('the metadata server answered with an http error', 'a wrong metadata url or a failing metadata server', 'check the url and the metadata server\'s logs'),
  ERR_SPIFFE_CREDENTIALS_METADATA_SHAPE: e('a metadata document lacks a field or has the wrong type', 'a metadata server of another version, or a proxy in between rewriting answers', 'check the url points at a gce-workload-certificates endpoint'),
  ERR_SPIFFE_CREDENTIALS_METADATA_UNREACHABLE: e('a metadata request failed before an answer (connection, timeout)', 'the metadata server is down or not listening on that address', 'start the metadata server or fix the url; the source retries with backoff'),
  ERR_SPIFFE_CREDENTIALS_NOT_CONFIGURED: e('the metadata server answers 412: workload certificates are not configured for this instance', 'the instance has no workload certificate config yet', 'configure managed workload identity for the instance'),
  ERR_SPIFFE_CREDENTIALS_NOT_READY: e('no usable svid is in force yet', 'the credential source has not delivered valid credentials (see its last error)', 'read the source\'s error in /status and fix it'),
  ERR_SPIFFE_CREDENTIALS_ROTATION_WINDOW: e('a rotation window is not a percentage between 0 and 100', 'a wrong value passed to the issuer source', 'give a percentage (the config allows 50 to 80)'),
  ERR_SPIFFE_CREDENTIALS_SOURCE_FAILED: e('a credential source failed with an error that has no code of its own', 'an unexpected fault inside the source', 'read the message; report it if it repeats'),
  ERR_SPIFFE_CREDENTIALS_STARTED: e('a credential source was started twice', 'a programming error in the code that wires the source', 'start each source once'),
  ERR_SPIFFE_CREDENTIALS_WORKLOAD_API_ENDPOINT: e('the workload api endpoint is not "unix:///absolute/path" or "tcp://IP:port" (SPIFFE Workload Endpoint section 4)', 'a relative unix path ("unix://run/agent.sock"), a dns name or no port in a tcp address', 'fix credentials.endpoint, --workload-api or SPIFFE_ENDPOINT_SOCKET'),
  ERR_SPIFFE_CREDENTIALS_WORKLOAD_API_NO_ENDPOINT: e('source workload-api has no endpoint: neither credentials.endpoint nor SPIFFE_ENDPOINT_SOCKET is set', 'the environment variable not passed to the process', 'set credentials.endpoint or SPIFFE_ENDPOINT_SOCKET to the agent\'s socket'),
  ERR_SPIFFE_CREDENTIALS_WORKLOAD_API_UNAVAILABLE: e('the workload api could not be reached, ended the stream (grpc Unavailable) or sent nothing in time', 'the agent is down or restarting, or a wrong socket path', 'check the agent runs and the socket path; the source retries with backoff'),
  ERR_SPIFFE_CREDENTIALS_WORKLOAD_API_NO_IDENTITY: e('the workload api answered PermissionDenied: it has no identity for this workload yet', 'the workload is not registered, or attestation is still running', 'register the workload with the agent\'s server; the source retries with backoff'),
  ERR_SPIFFE_CREDENTIALS_WORKLOAD_API_INVALID_ARGUMENT: e('the workload api refused the request as invalid (grpc InvalidArgument); per the spec it is not retried and the last good snapshot stays', 'a server or proxy in between speaking another protocol version, or dropping the workload.spiffe.io header', 'fix what sits between spiffe-lb and the agent, then refresh or restart'),
  ERR_SPIFFE_CREDENTIALS_WORKLOAD_API_RPC: e('the workload api stream failed with another grpc status (named in the message)', 'an agent fault or an incompatible server', 'read the status and details in the message and the agent\'s logs; the source retries with backoff'),
  ERR_SPIFFE_CREDENTIALS_DER_MALFORMED: e('a der field of a workload api message (svid chain, bundle) is not well-formed, so the update is kept out', 'a broken or hostile workload api server', 'fix the server; the last good credentials stay meanwhile'),
  ERR_SPIFFE_CREDENTIALS_DER_TRUNCATED: e('a der element of a workload api message runs past the end of its field, so the update is kept out', 'a truncated message or certificate from the server', 'fix the server; the last good credentials stay meanwhile'),
  ERR_SPIFFE_CREDENTIALS_DER_NOT_CERTIFICATE: e('a certificate field of a workload api message holds something that is not a der x.509 certificate, so the update is kept out', 'a server that sends pem, or another structure, where der certificates belong', 'fix the server; the last good credentials stay meanwhile'),
  ERR_SPIFFE_CREDENTIALS_BAD_PRIVATE_KEY: e('the x509_svid_key of a workload api message is not a pkcs#8 der private key, so the update is kept out', 'a broken server, or a key in another encoding (pem, pkcs#1)', 'fix the server; the last good credentials stay meanwhile'),
  ERR_SPIFFE_CREDENTIALS_CRL_INVALID: e('a crl delivered by the workload api does not parse, or no delivered bundle\'s ca signed it, so the update is kept out (the workload api does not say which domain a crl is for: it is matched by its signature)', 'a broken server, or a crl of a domain whose bundle is not delivered', 'fix the server; the last good credentials and crls stay meanwhile'),
  ERR_SPIFFE_CREDENTIALS_CRL_NO_BUNDLE: e('a configured crl waits: its trust domain has no bundle yet, so its signature cannot be checked and it is not used', 'a domain the credential source has not delivered (yet), or a typo in the revocation key', 'check the domain is trusted (/status trustDomains); the crl is verified as soon as its bundle arrives'),
  ERR_SPIFFE_CREDENTIALS_CRL_UNREADABLE: e('a configured crl (revocation.trustDomains.*.crlFiles or crlUrls) could not be read or fetched', 'a wrong path or url, a crl server that is down, or an http error', 'fix the path or url; at start serve refuses to run, later the last good crl stays until its nextUpdate'),
  ERR_SPIFFE_CREDENTIALS_BUNDLE_KEY: e('a federated bundle key of a workload api message is not a trust domain, or names a domain twice', 'keys "spiffe://td" and "td" for one domain, or a key that is not a domain name', 'fix the federation relationships the server delivers'),
  ERR_SPIFFE_CREDENTIALS_BUNDLE_SEQUENCE_BACKWARDS: e('a federated bundle\'s spiffe_sequence is lower than the one already accepted from that bundle endpoint, so it is refused and the last good bundle stays', 'a partner\'s bundle endpoint restored from an old backup or reset, or a replayed answer', 'have the partner serve a sequence above the last one (or restart serve to forget it, after checking the bundle)'),
  ERR_SPIFFE_CREDENTIALS_BUNDLE_ENDPOINT_UNREACHABLE: e('a bundle endpoint could not be fetched (connection, tls handshake, timeout); the last good bundle stays until maxBundleAge', 'the partner\'s endpoint is down, or a wrong url', 'check the url and that the endpoint runs; the poller retries with back-off'),
  ERR_SPIFFE_CREDENTIALS_BUNDLE_ENDPOINT_UNTRUSTED: e('a bundle endpoint\'s server certificate is not trusted: web pki refused it (https_web), or its x509-svid does not verify against the bundle of its trust domain (https_spiffe)', 'a wrong caFile or bootstrapBundle, or an endpoint whose ca rotated past the bundle we hold', 'fix caFile or bootstrapBundle to the ca that signs the endpoint\'s certificate'),
  ERR_SPIFFE_CREDENTIALS_BUNDLE_ENDPOINT_ID_MISMATCH: e('an https_spiffe bundle endpoint presented a valid x509-svid with another spiffe id than endpointSpiffeId, so its bundle is not used', 'a wrong endpointSpiffeId, or another workload of that domain answering on the url', 'set endpointSpiffeId to the id of the partner\'s bundle endpoint'),
  ERR_SPIFFE_CREDENTIALS_BUNDLE_ENDPOINT_HTTP: e('a bundle endpoint answered with an http status other than 200', 'a wrong url path, or the endpoint failing', 'check the url; the last good bundle stays meanwhile'),
  ERR_SPIFFE_CREDENTIALS_BUNDLE_ENDPOINT_TOO_LARGE: e('a bundle endpoint\'s answer is larger than 1 MiB (FEDERATION_MAX_BUNDLE_BYTES), so it is not read', 'the url points at something other than a bundle', 'point the url at the partner\'s bundle endpoint'),
  ERR_SPIFFE_CREDENTIALS_BUNDLE_WITHDRAWN: e('a federated trust domain is no longer trusted: no good fetch from its bundle endpoint for maxBundleAge (fail closed)', 'the bundle endpoint has been unreachable or refused for that long (the message carries the last error)', 'fix what the last error names; the domain is trusted again after the next good fetch')
} as const satisfies ErrorRegistry

/** One of the {@link CREDENTIALS_ERRORS} codes. */
export type CredentialsErrorCode = keyof typeof CREDENTIALS_ERRORS

/** Makes an error with one of the {@link CREDENTIALS_ERRORS} codes. */
export const credentialsError = errorFactory(CREDENTIALS_ERRORS)

/** `src/credentials` owns the `CREDENTIALS` prefix. */
export const CREDENTIALS_ERROR_REGISTRY: RegistryOwner = { folder: 'credentials', prefixes: ['CREDENTIALS'], codes: CREDENTIALS_ERRORS }

/**
 * The {@link CREDENTIALS_ERRORS} codes by short name (`CREDENTIALS_ERROR.FILE_TOO_LARGE` is
 * `'ERR_SPIFFE_CREDENTIALS_FILE_TOO_LARGE'`), derived from the registry (public API).
 */
export const CREDENTIALS_ERROR = codesByShortName(CREDENTIALS_ERRORS, 'ERR_SPIFFE_CREDENTIALS_')
