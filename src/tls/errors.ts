import { SpiffeLbError, codesByShortName, errorDoc as e, errorFactory, type ErrorOptions, type ErrorRegistry, type RegistryOwner } from '../internal/errors.ts'

/**
 * Stable error codes of the TLS layer (public API: they appear in logs, metrics labels and
 * `onHandshake` events). Verification failures keep the `src/spiffe` code as their `reason`.
 */
export const TLS_ERRORS = {
  ERR_SPIFFE_TLS_NO_CREDENTIALS: e('no credential snapshot yet, or the svid in force is outside its validity period, so no handshake is made', 'the credential source has not delivered a valid svid (see /status), or no trust bundles are loaded yet', 'fix the credential source; connections fail closed until it delivers'),
  ERR_SPIFFE_TLS_PEER_REJECTED: e('the peer\'s x.509-svid failed spiffe verification; `reason` holds the precise ERR_SPIFFE_SVID_/VERIFY_ rule', 'an untrusted trust domain, an expired or malformed svid, or a broken chain', 'look up the reason code and fix the peer\'s svid or the trust config'),
  ERR_SPIFFE_TLS_NO_PEER_CERTIFICATE: e('the peer presented no certificate at all', 'a backend or client without tls client/server certificate configured', 'configure the peer to present its x.509-svid'),
  ERR_SPIFFE_TLS_PEER_NOT_ALLOWED: e('the peer\'s svid verified but its id or trust domain is not on the allow-list', 'a backend running under another identity than the one the service expects', 'run the backend with the expected identity, or widen the allow-list'),
  ERR_SPIFFE_TLS_RESUMED_UNVERIFIED: e('a resumed tls session whose original verification is unknown was refused (fail closed)', 'a session ticket from before a restart or from another process', 'nothing: the next connection does a full handshake'),
  ERR_SPIFFE_TLS_HANDSHAKE_TIMEOUT: e('tcp connect, tls handshake and verification took longer than handshakeTimeoutMs', 'an overloaded or unreachable backend, or a firewall that drops packets', 'check the backend is up and reachable; raise the timeout if it is just slow'),
  ERR_SPIFFE_TLS_HANDSHAKE_FAILED: e('the tls handshake itself failed (alert, protocol error, reset during the handshake)', 'the peer refused our svid, or no common tls version or group', 'read the peer\'s logs; check both trust each other and share a tls version'),
  ERR_SPIFFE_TLS_SVID_REFUSED_AFTER_HANDSHAKE: e('the backend refused our svid after the handshake: the tls handshake completed, then the backend answered the request with its certificate error (nginx: 400 "The SSL certificate error" or "No required SSL certificate was sent"), sent an alert, or reset the connection right after the request', 'a backend that verifies client certificates after a tls 1.3 handshake (nginx ssl_verify_client on) and lacks the bundle of our trust domain, or a depth or id rule our svid breaks', 'give the backend our trust domain\'s bundle (nginx: ssl_client_certificate or ssl_trusted_certificate; see the README section "front your own backends"), and read its error log'),
  ERR_SPIFFE_TLS_REFUSED_BY_PEER: e('the peer refused our svid: it sent a tls alert (unknown ca, certificate required; named in the message) or, after a tls 1.3 handshake, closed before answering', 'the peer lacks the bundle of our trust domain, does not allow our id, or our svid is expired or lacks the eku it requires', 'read the alert and the peer\'s logs; give the peer our trust domain\'s bundle, allow our id, or fix our svid'),
  ERR_SPIFFE_TLS_CONNECT_FAILED: e('the tcp connection to the peer could not be established (the system error is passed on)', 'nothing listens on the endpoint, or it is unreachable', 'check the endpoint address and that the backend runs'),
  ERR_SPIFFE_TLS_ALPN_MISMATCH: e('the backend verified but alpn did not select the protocol the service requires (h2 for an HTTP2 backend service)', 'a backend that does not speak http/2 over tls, or whose alpn offers only http/1.1', 'fix the backend\'s alpn setup, or set the service\'s protocol to HTTPS'),
  ERR_SPIFFE_TLS_PEER_UNTRUSTED: e('an open backend connection was ended because its peer\'s recorded x.509-svid no longer verifies under new credentials; `reason` holds the precise ERR_SPIFFE_VERIFY_/SVID_ rule', 'the backend\'s trust domain was removed or its bundle replaced, or a crl now revokes its certificate', 'nothing if intended: new connections are refused the same way; otherwise restore the bundle or withdraw the revocation'),
  ERR_SPIFFE_TLS_SVID_UNUSABLE: e('an open backend connection was ended because the svid the proxy presents is no longer usable (past its notAfter, with no replacement)', 'the credential source stopped delivering rotated svids (see /status and the credential alarm)', 'fix the credential source; connections fail closed until a usable svid arrives'),
  ERR_SPIFFE_TLS_BAD_PARAMETERS: e('minVersion, maxVersion or groups cannot work together', 'minVersion above maxVersion, or a group this node/openssl does not support', 'fix the tls settings the message names'),
  ERR_SPIFFE_TLS_BAD_LISTEN_ADDRESS: e('a test backend\'s listen address is not host:port with a port from 0 to 65535', 'a missing port or a url', 'write "127.0.0.1:9443"')
} as const satisfies ErrorRegistry

/** One of the {@link TLS_ERRORS} codes. */
export type TlsErrorCode = keyof typeof TLS_ERRORS

/** Makes an error with one of the {@link TLS_ERRORS} codes. */
export const tlsError = errorFactory(TLS_ERRORS)

/** `src/tls` owns the `TLS` prefix. */
export const TLS_ERROR_REGISTRY: RegistryOwner = { folder: 'tls', prefixes: ['TLS'], codes: TLS_ERRORS }

/**
 * The {@link TLS_ERRORS} codes by short name (`TLS_ERROR.NO_CREDENTIALS` is
 * `'ERR_SPIFFE_TLS_NO_CREDENTIALS'`), derived from the registry, for code that compares codes.
 */
export const TLS_ERROR = codesByShortName(TLS_ERRORS, 'ERR_SPIFFE_TLS_')

/**
 * The peer was refused: `code` says how (rejected, not allowed, no certificate), `reason` is the
 * precise rule (the `src/spiffe` verification code, e.g. `ERR_SPIFFE_SVID_…`), `cause` the error.
 */
export class TlsPeerRejectedError extends SpiffeLbError<TlsErrorCode> {
  readonly reason: string
  constructor (code: TlsErrorCode, reason: string, message: string, options: ErrorOptions = {}) {
    super(code, message, options)
    this.name = 'TlsPeerRejectedError'
    this.reason = reason
  }
}

/**
 * An open backend connection ended because trust in it was withdrawn: `code` is
 * `ERR_SPIFFE_TLS_PEER_UNTRUSTED` or `ERR_SPIFFE_TLS_SVID_UNUSABLE`, `reason` the precise rule.
 * The connector destroys the socket with it, so whatever relays over the socket learns why.
 */
export class TlsTrustWithdrawnError extends SpiffeLbError<TlsErrorCode> {
  readonly reason: string
  constructor (code: 'ERR_SPIFFE_TLS_PEER_UNTRUSTED' | 'ERR_SPIFFE_TLS_SVID_UNUSABLE', reason: string, message: string, options: ErrorOptions = {}) {
    super(code, message, options)
    this.name = 'TlsTrustWithdrawnError'
    this.reason = reason
  }
}

/** Returns the most precise stable reason for `err`: a peer rejection's rule, else its code. */
export function reasonOf (err: unknown, fallback: string): string {
  if (err instanceof TlsPeerRejectedError || err instanceof TlsTrustWithdrawnError) return err.reason
  if (err instanceof SpiffeLbError) return err.code
  return fallback
}
