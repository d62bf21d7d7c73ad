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
 * `HTTP2` HTTP/2 over mTLS. `HTTP` (cleartext) is listed so config validation can refuse it
 * with the reason; the proxy never speaks it to a SPIFFE backend.
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
