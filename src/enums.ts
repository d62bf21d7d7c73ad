/**
 * The value lists of the project's enums, each written once (docs/architecture.md#formats-and-defaults).
 * A leaf like defaults.ts: it imports nothing, every layer may import it. Key algorithms live in
 * pki/key-algorithm.ts (`KEY_ALGORITHMS`), which owns their meaning too.
 */

/** Backend service load-balancing policies (`localityLbPolicy`, the cloud's names). */
export const LB_POLICIES = ['ROUND_ROBIN', 'LEAST_REQUEST', 'RANDOM'] as const
/** One of {@link LB_POLICIES}. */
export type LbPolicy = typeof LB_POLICIES[number]

/**
 * Backend service protocols (`protocol`, the cloud's names): `HTTPS` is HTTP/1.1 over mTLS,
 * `HTTP2` HTTP/2 over mTLS. `HTTP` (cleartext) is allowed only behind an inbound mTLS
 * frontend (`frontend.serverTlsPolicy`) towards an application on loopback; anywhere else config
 * validation refuses it with the reason, and the proxy never speaks it to a SPIFFE backend.
 */
export const BACKEND_PROTOCOLS = ['HTTPS', 'HTTP2', 'HTTP'] as const
/** One of {@link BACKEND_PROTOCOLS}. */
export type BackendProtocol = typeof BACKEND_PROTOCOLS[number]

/** Where the proxy's credentials come from (`credentials.source`). */
export const CREDENTIAL_SOURCES = ['issuer', 'directory', 'metadata', 'workload-api'] as const
/** One of {@link CREDENTIAL_SOURCES}. */
export type CredentialSourceKind = typeof CREDENTIAL_SOURCES[number]

/**
 * How a federated trust domain's bundle endpoint is authenticated (`bundleEndpoint.profile`,
 * SPIFFE Federation §5.2): `https_web` by web PKI, `https_spiffe` by the endpoint's X509-SVID.
 */
export const BUNDLE_ENDPOINT_PROFILES = ['https_web', 'https_spiffe'] as const
/** One of {@link BUNDLE_ENDPOINT_PROFILES}. */
export type BundleEndpointProfile = typeof BUNDLE_ENDPOINT_PROFILES[number]

/**
 * How the inbound frontend treats a client certificate (`frontend.serverTlsPolicy.mtlsPolicy
 * .clientValidationMode`, the cloud's names): `REJECT_INVALID` refuses a missing or invalid one
 * before the application sees a byte; `ALLOW_INVALID_OR_MISSING_CLIENT_CERT` forwards anyway and
 * says why in the custom request headers.
 */
export const CLIENT_VALIDATION_MODES = ['REJECT_INVALID', 'ALLOW_INVALID_OR_MISSING_CLIENT_CERT'] as const
/** One of {@link CLIENT_VALIDATION_MODES}. */
export type ClientValidationMode = typeof CLIENT_VALIDATION_MODES[number]

/**
 * The cloud's mTLS variables of `customRequestHeaders` (`{client_cert_present}`, …), plus the
 * extension `client_cert_error_code`: the precise `ERR_SPIFFE_*` rule a client certificate broke.
 */
export const CLIENT_CERT_VARIABLES = [
  'client_cert_present', 'client_cert_chain_verified', 'client_cert_error', 'client_cert_error_code',
  'client_cert_sha256_fingerprint', 'client_cert_serial_number', 'client_cert_spiffe_id',
  'client_cert_uri_sans', 'client_cert_dnsname_sans', 'client_cert_valid_not_before',
  'client_cert_valid_not_after', 'client_cert_leaf', 'client_cert_chain'
] as const
/** One of {@link CLIENT_CERT_VARIABLES}. */
export type ClientCertVariable = typeof CLIENT_CERT_VARIABLES[number]

/** Returns `values` as prose for an error message: `A, B or C`. */
export function oneOfText (values: readonly string[]): string {
  return values.length <= 1 ? values.join('') : `${values.slice(0, -1).join(', ')} or ${values.at(-1) ?? ''}`
}

/**
 * What a CRL past its nextUpdate means for the backends of its trust domain
 * (`revocation.trustDomains[].staleCrl`, `verify --stale-crl`): `fail-closed` rejects them,
 * `fail-open` admits them with a warning.
 */
export const STALE_CRL_POLICIES = ['fail-closed', 'fail-open'] as const
/** One of {@link STALE_CRL_POLICIES}. */
export type StaleCrlPolicy = typeof STALE_CRL_POLICIES[number]
