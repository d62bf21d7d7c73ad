import { errorDoc as e, errorFactory, type ErrorRegistry, type RegistryOwner } from '../internal/errors.ts'

/**
 * Codes of the command line (`CLI`): the flags and files given to a command. The commands,
 * the testbed and this folder's flag parsers raise them; they live here, below all of them.
 */
export const CLI_ERRORS = {
  ERR_SPIFFE_CLI_NODE_VERSION: e('the `spiffe-lb` command runs on another node.js major version than the one it needs', 'the system node (e.g. 20) runs the installed bin instead of node 24', 'run it with node 24 (`npx spiffe-lb`, or node 24 first on PATH)'),
  ERR_SPIFFE_CLI_BACKEND_CREDENTIALS: e('`backend` was given no usable credentials', 'neither --credentials-dir nor --cert, --key and --bundle together, or files that do not load', 'give --credentials-dir DIR, or --cert FILE --key FILE --bundle TD=FILE'),
  ERR_SPIFFE_CLI_BAD_BUNDLE_ARG: e('a `backend --bundle` or `--crl` value is not TRUST_DOMAIN=FILE', 'a file path without the trust domain', 'write --bundle example.org=bundle.pem or --crl example.org=crl.pem'),
  ERR_SPIFFE_CLI_BUNDLE_ARG: e('a `verify --bundle` value is not TRUST_DOMAIN=PEM_FILE', 'a file path without the trust domain', 'write --bundle example.org=bundle.pem'),
  ERR_SPIFFE_CLI_BAD_CERTIFICATE: e('a certificate in the file given to `inspect` or `verify` does not parse as x.509 (pem block or der)', 'a corrupted pem body, or a der file that is neither a certificate nor (for `inspect`) a crl', 'check the file holds certificates, pem or der'),
  ERR_SPIFFE_CLI_NO_CERTIFICATE: e('the file given to `inspect`, `verify` or `ca revoke --cert` holds no certificate: no pem "CERTIFICATE" block and not der', 'a key file, a csr, or an empty file', 'give a certificate file, pem or der (openssl x509 -in f -out f.pem writes pem)'),
  ERR_SPIFFE_CLI_USAGE: e('the command line does not fit the command: an unknown command or option, a missing argument or required option, or a value outside its choices', 'a typo, or an option of another command', 'read `spiffe-lb <command> --help`, which the message names'),
  ERR_SPIFFE_CLI_UNEXPECTED: e('a command failed with an error that has no code of its own (a bug or an environment failure)', 'an unforeseen failure of the system or a library', 'rerun with SPIFFE_LB_DEBUG=1 to see the stack and report it'),
  ERR_SPIFFE_CLI_NO_BUNDLES: e('`verify` or `probe` was given no trust bundles', 'neither --bundle nor --trust-config given', 'give --bundle TRUST_DOMAIN=PEM_FILE or --trust-config FILE'),
  ERR_SPIFFE_CLI_TRUST_CONFIG_SHAPE: e('the --trust-config file is not a trust config form `verify` and `probe` know', 'another yaml or json document', 'give spiffeTrustStores, trust_bundles.json, inlineTrustConfig.additionalTrustBundles, a serving config, or a map of trust domain to anchors'),
  ERR_SPIFFE_CLI_TRUST_CONFIG_SYNTAX: e('the --trust-config file is neither yaml nor json', 'a syntax error or a pem file given as trust config', 'fix the syntax, or use --bundle for pem files'),
  ERR_SPIFFE_CLI_ROLE: e('`verify --role` or `probe --role` is not server or client', 'a misspelt role', 'use --role server or --role client'),
  ERR_SPIFFE_CLI_NOW: e('`--now` is not an iso 8601 time', 'a date without time or zone', 'write a time like 2026-01-01T00:00:00Z'),
  ERR_SPIFFE_CLI_BAD_WORKERS: e('`serve --workers` is not a positive integer or "auto"', 'zero, a negative number or a typo', 'give a count like 2, or "auto" for one per cpu'),
  ERR_SPIFFE_CLI_CA_EXISTS: e('the ca key file already exists', '`ca create-root` run twice into one directory', 'pass --force to replace the ca, or choose another directory'),
  ERR_SPIFFE_CLI_READ_FILE: e('a file given to a command (`ca`, `svid issue`, `inspect`, `verify`, `probe`) cannot be read', 'a wrong path or permissions', 'fix the path'),
  ERR_SPIFFE_CLI_WRITE_FILE: e('a file of `ca` cannot be written', 'a read-only directory or a full disk', 'choose a writable directory'),
  ERR_SPIFFE_CLI_FILE_UNREADABLE: e('a file given to `backend` cannot be read', 'a wrong path or permissions', 'fix the path'),
  ERR_SPIFFE_CLI_LIFETIME: e('`--lifetime` is not a duration with a unit (ms, s, m, h) at or above its minimum', 'a bare number, "1d", or a lifetime below the minimum the message names', 'write a duration like "86400s" or "24h"'),
  ERR_SPIFFE_CLI_MAX_CHAIN_LENGTH: e('`--max-chain-length` is not a non-negative integer', 'a negative or fractional value', 'give 0 or a positive integer'),
  ERR_SPIFFE_CLI_ID_HAS_NO_PATH: e('`svid issue --id` names only a trust domain', 'an id without a workload path', 'give an id like spiffe://TD/ns/NS/sa/ID'),
  ERR_SPIFFE_CLI_IDENTITY: e('`metadata-server --identity` or `workload-api --identity` is not a managed identity of the config, or the config has none', 'a typo, or a config without managed identities', 'give one of the config\'s managed identities'),
  ERR_SPIFFE_CLI_RESOURCE: e('`workload-api` cannot tell which googleCloudResource to attest: no backend service presents the identity and no --resource was given', 'an identity only used outside the config\'s backend services', 'pass --resource with the resource the attestation rules of the pool admit'),
  ERR_SPIFFE_CLI_SOCKET_MODE: e('`workload-api --socket-mode` is not an octal mode of three digits, or was given with a tcp --listen', 'a decimal number such as 384, or "u+rw"', 'write an octal mode like 600 or 0660 with a unix:/// --listen'),
  ERR_SPIFFE_CLI_LOG_LEVEL: e('`--log-level` is not a pino level or "silent"', 'a misspelt level such as "warning"', 'use one of the levels the message lists'),
  ERR_SPIFFE_CLI_LOG_OUTPUT: e('the log output (stdout) cannot be written: log records are dropped until it can, and the command keeps running', 'a full disk, a file opened read-only, or a pipe whose reader has gone', 'free space or fix the redirection; stderr repeats the line at most once a minute while it lasts'),
  ERR_SPIFFE_CLI_LOG_FORMAT: e('`--log-format` is not pretty or json', 'a misspelt format such as "text"', 'use --log-format pretty (readable lines) or --log-format json (one json record per line)'),
  ERR_SPIFFE_CLI_LISTEN: e('a `--listen` of `metadata-server` or `bundle-endpoint` is not host:port', 'a missing port or an unbracketed ipv6 address', 'write "127.0.0.1:8899"'),
  ERR_SPIFFE_CLI_POOL: e('`bundle-endpoint` cannot tell which workload identity pool to serve: --pool names none of the config, or the config has not exactly one pool with an issuance config', 'a typo in --pool, or a config with several pools', 'give --pool with the id of a pool that has inlineCertificateIssuanceConfig'),
  ERR_SPIFFE_CLI_REFRESH_HINT: e('`bundle-endpoint --refresh-hint` is not a duration of whole seconds, at least 1s', 'a bare number, "1500ms" or "0s"', 'write a duration like "300s" or "5m"'),
  ERR_SPIFFE_CLI_INTERVAL: e('`agent --interval` is not a duration with a unit (ms, s, m, h) of at least 100ms', 'a bare number or "1d"', 'write a duration like "300s" or "5m"'),
  ERR_SPIFFE_CLI_STALE_CRL: e('`--stale-crl` is not fail-closed or fail-open', 'a misspelt policy, or the former values closed/open', 'use --stale-crl fail-closed (the default) or --stale-crl fail-open'),
  ERR_SPIFFE_CLI_REVOKE_TARGET: e('`ca revoke` was given neither or both of --serial and --cert', 'both flags given, or none', 'give exactly one of --serial HEX or --cert FILE'),
  ERR_SPIFFE_CLI_DURATION: e('a duration flag (`serve --drain-timeout`, `ca revoke --crl-validity`) is not a number with a unit (ms, s, m, h) at or above its minimum', 'a bare number or "1d"', 'write a duration like "500ms", "30s", "5m" or "24h"'),
  ERR_SPIFFE_CLI_PROBE_IDENTITY: e('`probe` was not told which identity to present: neither --cert and --key nor -c CONFIG with --service', 'a flag left out, or -c without --service', 'give --cert FILE --key FILE, or -c CONFIG --service NAME'),
  ERR_SPIFFE_CLI_PROBE_TARGET: e('the `probe` target is not host:port with a port from 1 to 65535', 'a url or a missing port', 'write "127.0.0.1:9443"'),
  ERR_SPIFFE_CLI_PROBE_PATH: e('`probe --path` is not an origin-form path: it must start with "/" and hold no spaces', 'a full url, or a path without its leading slash', 'write a path like "/healthz" (and the host with --host)'),
  ERR_SPIFFE_CLI_PROBE_TIMEOUT: e('`probe --timeout` is not a positive duration (a bare number is milliseconds)', 'zero, or an unknown unit like "5sec"', 'write a duration like "5s" or "500ms"'),
  ERR_SPIFFE_CLI_PROBE_NO_CREDENTIALS: e('the credential source of the service given to `probe -c CONFIG --service` delivered no credentials', 'an unprovisioned credential directory or an unreachable metadata server', 'fix the credential source first (`status`, or read its error), then probe'),
  ERR_SPIFFE_CLI_UNKNOWN_SERVICE: e('`probe --service` names no backend service of the config, or one without tlsSettings.identity', 'a misspelt name, or a service that does not use mtls', 'give a backend service with an identity; the message lists the names'),
  ERR_SPIFFE_CLI_TRUST_CONFIG_CONFLICT: e('a serving config given as --trust-config has backend services trusting different anchors for one trust domain', 'services whose pools carry different bundles for the same domain', 'name one service with --service, or make the pools agree')
} as const satisfies ErrorRegistry

/** One of the {@link CLI_ERRORS} codes. */
export type CliErrorCode = keyof typeof CLI_ERRORS

/** Makes an error with one of the {@link CLI_ERRORS} codes. */
export const cliError = errorFactory(CLI_ERRORS)

/** `src/process` owns the `CLI` prefix: what a command was given. */
export const CLI_ERROR_REGISTRY: RegistryOwner = { folder: 'process', prefixes: ['CLI'], codes: CLI_ERRORS }
