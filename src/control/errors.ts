import { errorDoc as e, errorFactory, type ErrorRegistry, type RegistryOwner } from '../internal/errors.ts'

/** Codes of the local control plane (`src/control`): ca pool state, issuance, metadata server, agent. */
export const CONTROL_ERRORS = {
  ERR_SPIFFE_CONTROL_POOL_ID: e('a ca pool id is not 1-63 characters of [a-z0-9-] starting and ending alphanumeric', 'a pool id with capitals or other characters used as a directory name', 'rename the ca pool'),
  ERR_SPIFFE_CONTROL_STATE_WRITE: e('a ca pool\'s state (certificate and key) cannot be stored in its directory', 'a read-only or full disk, or a state directory owned by another user', 'check the state directory\'s permissions and free space'),
  ERR_SPIFFE_CONTROL_STATE_INCOMPLETE: e('one file of a ca pool\'s certificate and key pair is missing', 'a file deleted by hand, or an interrupted copy', 'restore the missing file, or remove the pool directory to create a new ca'),
  ERR_SPIFFE_CONTROL_STATE_CORRUPT: e('a ca pool state file is half-written or corrupted; it is never replaced automatically', 'a crash during a write, or a file edited by hand', 'restore it from a backup, or remove the pool directory to create a new ca (peers must then trust the new root)'),
  ERR_SPIFFE_CONTROL_STATE_UNREADABLE: e('a ca pool state file cannot be read', 'file permissions', 'make the state directory readable by the spiffe-lb user'),
  ERR_SPIFFE_CONTROL_NO_POOL: e('no workload identity pool has the identity\'s trust domain', 'an identity of a pool the config does not define', 'define the pool in workloadIdentityPools[], or fix the identity'),
  ERR_SPIFFE_CONTROL_NO_CIC: e('a workload identity pool has no inlineCertificateIssuanceConfig, so nothing issues its certificates', 'a pool without issuance config used with local issuance', 'add inlineCertificateIssuanceConfig to the pool'),
  ERR_SPIFFE_CONTROL_NO_CA_POOL: e('an issuance config names a ca pool that caPools[] does not define with a ca', 'a ca pool reference without a matching caPools[] entry or without a ca in it', 'define the ca pool with at least one ca'),
  ERR_SPIFFE_CONTROL_LISTEN: e('the metadata server or bundle endpoint cannot listen on its address', 'the port is in use, or the address is not local', 'choose another --listen address'),
  ERR_SPIFFE_CONTROL_OUT_DIR: e('the agent cannot swap its output directory to the new credentials', '--out is a real directory (it must be a symlink the agent manages, or absent)', 'remove the directory, or give a fresh --out path'),
  ERR_SPIFFE_CONTROL_AGENT_FAILED: e('an agent refresh failed with an error that has no code of its own', 'an unexpected fault while fetching or writing credentials', 'read the message; the agent retries with backoff'),
  ERR_SPIFFE_CONTROL_AGENT_IDENTITIES: e('the metadata server\'s workload-identities does not hold exactly one identity', 'an instance bound to none or to several identities', 'bind exactly one managed identity to the instance'),
  ERR_SPIFFE_CONTROL_AGENT_NO_OWN_ANCHORS: e('the metadata server\'s trust-anchors has no entry for the identity\'s own trust domain', 'a trust config that omits the workload\'s own domain', 'deliver the own domain\'s anchors with the identity'),
  ERR_SPIFFE_CONTROL_REVOKED_LIST: e('a ca directory\'s revoked.json cannot be read or is not a list of {serialHex, revokedAt}', 'a hand-edited or truncated file, or file permissions', 'fix or restore revoked.json from backup (it is the source of the published crl)'),
  ERR_SPIFFE_CONTROL_SOCKET_DIR_MISSING: e('the directory of the workload api unix socket does not exist or is not a directory', 'a typo in --listen, or a runtime directory not created yet', 'create the directory, writable by the spiffe-lb user only (mkdir -m 700)'),
  ERR_SPIFFE_CONTROL_SOCKET_DIR_UNSAFE: e('the directory of the workload api unix socket is writable by its group or by every user, so another user could replace the socket', 'a socket in /tmp or another shared directory', 'use a directory writable by the spiffe-lb user only (mkdir -m 700 /run/spiffe-lb)'),
  ERR_SPIFFE_CONTROL_SOCKET_BIND: e('the workload api unix socket cannot be created in its directory', 'a directory this user may not write, a path too long for a unix socket, or another file at the path', 'give a path in a directory this user owns, short enough (about 100 bytes)'),
  ERR_SPIFFE_CONTROL_SERIAL: e('a serial number to revoke is not 1 to 40 hex digits (colons allowed)', 'a decimal serial or a fingerprint given as --serial', 'take the serial from openssl x509 -serial, or use --cert FILE')
} as const satisfies ErrorRegistry

/** One of the {@link CONTROL_ERRORS} codes. */
export type ControlErrorCode = keyof typeof CONTROL_ERRORS

/** Makes an error with one of the {@link CONTROL_ERRORS} codes. */
export const controlError = errorFactory(CONTROL_ERRORS)

/** `src/control` owns the `CONTROL` prefix. */
export const CONTROL_ERROR_REGISTRY: RegistryOwner = { folder: 'control', prefixes: ['CONTROL'], codes: CONTROL_ERRORS }
