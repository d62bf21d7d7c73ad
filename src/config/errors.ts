import { errorDoc as e, errorFactory, type ErrorRegistry, type RegistryOwner } from '../internal/errors.ts'

const FIX_FILE = 'fix the config at the path the message names, then reload'

/**
 * Codes of the config format (config/schema.ts): one per rule, each reported with the config
 * path it applies to. A rejected file is `ERR_SPIFFE_CONFIG_INVALID` listing these.
 */
export const CONFIG_ERRORS = {
  ERR_SPIFFE_CONFIG_INVALID: e('the config file was rejected; the message lists every rule it breaks', 'any of the ERR_SPIFFE_CONFIG_* rules below', 'fix each listed issue (`serve --check` lists them without starting); a running proxy keeps its last good config'),
  ERR_SPIFFE_CONFIG_READ: e('the config file cannot be read', 'a wrong -c path or file permissions', 'check the path and that the file is readable'),
  ERR_SPIFFE_CONFIG_SYNTAX: e('the config file is not valid yaml or json', 'bad indentation, tabs, or an unclosed quote or bracket', 'fix the syntax at the line the message names'),
  ERR_SPIFFE_CONFIG_TYPE: e('a value, or the whole document, has the wrong type', 'a string where a number or list is expected, or a scalar document', FIX_FILE),
  ERR_SPIFFE_CONFIG_REQUIRED: e('a required field is missing', 'a field left out, or misspelt so it counts as missing', 'add the field the path names'),
  ERR_SPIFFE_CONFIG_UNKNOWN_KEY: e('a key is not part of the config format here', 'a misspelt key, or a key at the wrong nesting level', 'fix the spelling or the indentation; unknown keys are refused, not ignored'),
  ERR_SPIFFE_CONFIG_EMPTY: e('a list or map must not be empty', 'an empty trustAnchors, caPools or other required collection', 'add at least one entry, or remove the field'),
  ERR_SPIFFE_CONFIG_RANGE: e('a number or list length is outside its allowed range', 'a value too small or too large for the field', 'use a value within the bounds the message gives'),
  ERR_SPIFFE_CONFIG_ENUM: e('a value is not one of the allowed values', 'a misspelt enumeration value', 'use one of the values the message lists'),
  ERR_SPIFFE_CONFIG_POOL_MODE: e('a workload identity pool mode is not one of the allowed values', 'a misspelt or unsupported mode', 'use one of the modes the message lists (gcloud\'s spelling)'),
  ERR_SPIFFE_CONFIG_POOL_STATE: e('a workload identity pool state is not one of the allowed values', 'a misspelt state in pasted gcloud output', 'use one of the states the message lists'),
  ERR_SPIFFE_CONFIG_PROTOCOL: e('a backend service protocol is not one of the allowed values', 'a protocol spiffe-lb does not forward', 'use one of the protocols the message lists'),
  ERR_SPIFFE_CONFIG_PROTOCOL_CLEARTEXT: e('a backend service protocol is HTTP (cleartext): spiffe-lb proves its svid and verifies the backend\'s only inside a tls handshake', 'a config copied from a plain http load balancer', 'set protocol HTTPS (http/1.1 over mtls) or HTTP2 (h2 over mtls)'),
  ERR_SPIFFE_CONFIG_LB_POLICY: e('a localityLbPolicy is not one of the allowed values', 'a misspelt or unsupported policy', 'use ROUND_ROBIN, LEAST_REQUEST or RANDOM'),
  ERR_SPIFFE_CONFIG_CREDENTIALS_SOURCE: e('credentials.source is not one of the allowed values', 'a misspelt source', 'use one of the sources the message lists (issuer, directory, metadata)'),
  ERR_SPIFFE_CONFIG_DUPLICATE_KEY: e('a yaml or json mapping names the same key twice', 'a block pasted twice or edited in two places', 'keep one; which one was meant cannot be guessed'),
  ERR_SPIFFE_CONFIG_DUPLICATE_TRUST_DOMAIN: e('a trust domain is listed twice in a bundle map', 'the same domain under two spellings ("Example.org" and "example.org") or pasted twice', 'merge the anchors into one entry per domain'),
  ERR_SPIFFE_CONFIG_PROJECT_NUMBER: e('project.number is not all digits', 'the project id given as number', 'give the numeric project number'),
  ERR_SPIFFE_CONFIG_PROJECT_ID: e('project.id is not 6-30 lowercase letters, digits or hyphens starting with a letter', 'capitals, underscores or a too short id', 'use a valid google cloud project id'),
  ERR_SPIFFE_CONFIG_POOL_ID: e('a workload identity pool id is not 4-32 characters of [a-z0-9-] starting and ending alphanumeric', 'capitals, underscores or a too short id', 'rename the pool'),
  ERR_SPIFFE_CONFIG_POOL_NAME_MISMATCH: e('a pool name does not match this project\'s number and the pool\'s id', 'gcloud output pasted from another project, or id and name edited apart', 'make name "projects/NUMBER/locations/global/workloadIdentityPools/ID" agree'),
  ERR_SPIFFE_CONFIG_DUPLICATE_POOL: e('a workload identity pool is defined twice', 'a pool block pasted twice', 'keep one definition per pool'),
  ERR_SPIFFE_CONFIG_NAMESPACE_ID: e('a namespace id is not 2-63 characters of [a-z0-9-] starting and ending alphanumeric', 'capitals, underscores or a one-letter id', 'rename the namespace'),
  ERR_SPIFFE_CONFIG_DUPLICATE_NAMESPACE: e('a namespace is defined twice in a pool', 'a namespace block pasted twice', 'keep one definition per namespace'),
  ERR_SPIFFE_CONFIG_MANAGED_IDENTITY_ID: e('a managed identity id is not 2-63 characters of [a-z0-9-] starting and ending alphanumeric', 'capitals, underscores or a one-letter id', 'rename the managed identity'),
  ERR_SPIFFE_CONFIG_DUPLICATE_MANAGED_IDENTITY: e('a managed identity is defined twice in a namespace', 'a managed identity block pasted twice', 'keep one definition per managed identity'),
  ERR_SPIFFE_CONFIG_ATTESTATION_RULE: e('an attestation rule\'s googleCloudResource is not a resource name like "//compute.googleapis.com/projects/N/type/BackendService/*"', 'a short name or an url instead of a full resource name', 'write the full resource name, as the message shows'),
  ERR_SPIFFE_CONFIG_ATTESTATION_DENIED: e('a backend service is not attested for the managed identity it uses', 'no attestation rule of that managed identity matches the backend service', 'add an attestation rule for the backend service to the managed identity'),
  ERR_SPIFFE_CONFIG_CA_POOL_NOT_FOUND: e('an issuance config names a ca pool that caPools[] does not define', 'a typo in the pool reference, or the ca pool left out', 'define the ca pool in caPools[], or fix the reference'),
  ERR_SPIFFE_CONFIG_LIFETIME: e('a certificate lifetime is outside 86400s (24h) to 2592000s (30d)', 'a lifetime the managed workload identity service does not allow', 'choose a lifetime within the bounds'),
  ERR_SPIFFE_CONFIG_ROTATION_WINDOW: e('rotationWindowPercentage is outside 50 to 80', 'a value the managed workload identity service does not allow', 'choose a percentage from 50 to 80'),
  ERR_SPIFFE_CONFIG_KEY_ALGORITHM: e('an issuance key algorithm is not supported', 'a misspelt algorithm name', 'use one of the algorithms the message lists'),
  ERR_SPIFFE_CONFIG_TRUST_CONFIG_BOTH: e('a pool has both additionalTrustBundles and a pasted spiffeTrustStores', 'a pasted trust config added next to the native form', 'keep one of the two forms'),
  ERR_SPIFFE_CONFIG_CIC_REQUIRED: e('a pool needs an inlineCertificateIssuanceConfig because a backend service takes its identity from it and credentials come from the issuer', 'the issuance config left out of a pool used with credentials.source "issuer"', 'add inlineCertificateIssuanceConfig to the pool, or use another credential source'),
  ERR_SPIFFE_CONFIG_CA_POOL_NAME: e('a ca pool name is not "projects/NUMBER/locations/REGION/caPools/POOL_ID"', 'a short pool id, or a name with invalid characters', 'write the full resource name'),
  ERR_SPIFFE_CONFIG_CA_POOL_PROJECT: e('a ca pool is not in this config\'s project', 'a pool name pasted from another project', 'use this project\'s number or id in the name'),
  ERR_SPIFFE_CONFIG_DUPLICATE_CA_POOL: e('a ca pool is defined twice', 'a ca pool block pasted twice', 'keep one definition per ca pool'),
  ERR_SPIFFE_CONFIG_CA_ID: e('a ca id is not 1-64 letters, digits, underscores or hyphens', 'spaces or dots in the id', 'rename the ca'),
  ERR_SPIFFE_CONFIG_DUPLICATE_CA: e('a ca id is used twice in one ca pool', 'a ca block pasted twice', 'give each ca its own id'),
  ERR_SPIFFE_CONFIG_CA_SUBJECT: e('a ca subject is not a distinguished name', 'a plain name instead of "CN=…, O=…"', 'write the subject as comma-separated KEY=value pairs'),
  ERR_SPIFFE_CONFIG_CA_KEY_ALGORITHM: e('a ca key algorithm is not supported', 'a misspelt algorithm name', 'use one of the supported key algorithms'),
  ERR_SPIFFE_CONFIG_CA_LIFETIME: e('a ca lifetime is shorter than 86400s', 'a ca that would not outlive the 24h certificates it issues', 'give the ca a lifetime of at least 86400s'),
  ERR_SPIFFE_CONFIG_DURATION: e('a duration is not a number with a unit: ms, s (also the cloud\'s "86400s" and "1.5s"), m or h', 'a bare number, or an unknown unit like "1d"', 'write a duration like "86400s", "500ms", "5m" or "24h"'),
  ERR_SPIFFE_CONFIG_BACKEND_SERVICE_NAME: e('a backend service name is not 1-63 lowercase letters, digits and hyphens starting with a letter', 'capitals, underscores or a trailing hyphen', 'rename the backend service'),
  ERR_SPIFFE_CONFIG_DUPLICATE_BACKEND_SERVICE: e('a backend service name is used twice', 'a backend service block pasted twice', 'give each backend service its own name'),
  ERR_SPIFFE_CONFIG_IDENTITY_EXCLUSIVE: e('a tlsSettings field is set together with tlsSettings.identity, which creates it', 'a hand-written subjectAltNames or authentication config next to a managed identity', 'remove the field; the managed identity derives it'),
  ERR_SPIFFE_CONFIG_IDENTITY_FORMAT: e('tlsSettings.identity or a managed identity is not "//POOL.global.PROJECT_NUMBER.workload.id.goog/ns/NS/sa/ID"', 'a spiffe:// id, a missing segment, or a wrong domain suffix', 'write the identity in the managed identity form the message shows'),
  ERR_SPIFFE_CONFIG_ALLOWED_PEER: e('an authorization.allowedPeers entry is not a spiffe id pattern (the message names the pattern rule broken)', 'a pattern without a path, "**" before the last segment, or "*" inside a segment', 'write spiffe://TRUST_DOMAIN/PATH with "*" for one whole segment and "**" only last'),
  ERR_SPIFFE_CONFIG_IDENTITY_PROJECT_MISMATCH: e('a backend service identity is in another project number than the config', 'an identity pasted from another project', 'use this project\'s number in the identity'),
  ERR_SPIFFE_CONFIG_IDENTITY_POOL_NOT_FOUND: e('a backend service identity names a workload identity pool that is not defined', 'a typo in the pool id, or the pool left out', 'define the pool, or fix the identity'),
  ERR_SPIFFE_CONFIG_IDENTITY_NAMESPACE_NOT_FOUND: e('a backend service identity names a namespace that the pool does not define', 'a typo in the namespace, or the namespace left out', 'define the namespace, or fix the identity'),
  ERR_SPIFFE_CONFIG_IDENTITY_NOT_FOUND: e('a backend service identity names a managed identity that the namespace does not define', 'a typo in the managed identity, or it was left out', 'define the managed identity, or fix the identity'),
  ERR_SPIFFE_CONFIG_ENDPOINT: e('a backend endpoint is not "host:port" with a port from 1 to 65535', 'a missing port, an unbracketed ipv6 address or a url', 'write endpoints as "127.0.0.1:9443" or "[::1]:9443"'),
  ERR_SPIFFE_CONFIG_HEALTH_CHECK_PATH: e('a health check requestPath does not start with "/"', 'a relative path or a full url', 'give an absolute path like "/healthz"'),
  ERR_SPIFFE_CONFIG_HEALTH_CHECK_TIMEOUT: e('a health check timeoutSec exceeds its checkIntervalSec', 'a timeout raised without raising the interval', 'make timeoutSec at most checkIntervalSec'),
  ERR_SPIFFE_CONFIG_URL_MAP_REQUIRED: e('a urlMap is required when there is more than one backend service', 'a second backend service added without routing', 'add a urlMap that says which requests go where'),
  ERR_SPIFFE_CONFIG_URL_MAP_SERVICE_NOT_FOUND: e('the url map names a backend service that is not defined', 'a typo, or a renamed backend service', 'define the backend service, or fix the url map'),
  ERR_SPIFFE_CONFIG_DUPLICATE_PATH_MATCHER: e('a path matcher is defined twice', 'a path matcher block pasted twice', 'give each path matcher its own name'),
  ERR_SPIFFE_CONFIG_PATH_RULE: e('a path rule does not start with "/" or has "*" other than a final "/*"', 'a glob or regular expression used as path', 'write exact paths or prefixes ending in "/*"'),
  ERR_SPIFFE_CONFIG_PATH_MATCHER_NOT_FOUND: e('a host rule names a path matcher that is not defined', 'a typo, or a renamed path matcher', 'define the path matcher, or fix the host rule'),
  ERR_SPIFFE_CONFIG_DUPLICATE_HOST: e('a host appears in more than one host rule', 'the same host added to two rules', 'keep each host in one host rule'),
  ERR_SPIFFE_CONFIG_LISTEN: e('frontend.listen or admin.listen is not "host:port" with a port from 0 to 65535', 'a missing port or an unbracketed ipv6 address', 'write "127.0.0.1:8080" or "[::1]:8080"'),
  ERR_SPIFFE_CONFIG_LISTEN_CONFLICT: e('admin and frontend listen on the same address', 'both set to one host:port', 'give the admin listener its own port'),
  ERR_SPIFFE_CONFIG_METADATA_URL: e('credentials.metadataUrl is not an http or https url', 'a host:port without scheme', 'write "http://HOST:PORT"'),
  ERR_SPIFFE_CONFIG_POLL_INTERVAL: e('credentials.pollInterval is 0s', 'a zero interval, which would poll in a busy loop', 'give a positive interval like "300s"'),
  ERR_SPIFFE_CONFIG_REVOCATION_TRUST_DOMAIN: e('a key of revocation.trustDomains is not a bare trust domain name', 'a spiffe:// prefix, a path, capitals or a port in the key', 'key the block by bare lowercase trust domain names, as additionalTrustBundles'),
  ERR_SPIFFE_CONFIG_REVOCATION_URL: e('a revocation.trustDomains.*.crlUrls entry is not an http or https url', 'a path written under crlUrls instead of crlFiles, or no scheme', 'write "http://HOST:PORT/PATH", or move a file to crlFiles'),
  ERR_SPIFFE_CONFIG_REVOCATION_STALE_CRL: e('revocation.trustDomains.*.staleCrl is neither fail-closed nor fail-open', 'a typo, or the verify flag\'s values (closed/open)', 'write fail-closed (the default) or fail-open'),
  ERR_SPIFFE_CONFIG_TRUST_DOMAIN: e('a key of a trust bundle map is not a valid trust domain', 'a spiffe id with a path, capitals, or a port used as the key (see the nested ERR_SPIFFE_TRUST_DOMAIN_* rule)', 'key the map by bare lowercase trust domain names'),
  ERR_SPIFFE_CONFIG_TRUST_ANCHOR_SOURCE: e('a trust anchor has neither or both of pemCertificate and pemFile', 'both fields set, or a misspelt field', 'give exactly one of pemCertificate or pemFile'),
  ERR_SPIFFE_CONFIG_TRUST_ANCHOR_INVALID: e('a trust anchor is not a usable pem ca certificate', 'a leaf, a key or a corrupted pem (see the nested code)', 'give the root ca certificate of the trust domain'),
  ERR_SPIFFE_CONFIG_PEM_FILE: e('a trust anchor\'s pemFile cannot be read', 'a wrong path (relative paths are resolved against the config file) or permissions', 'fix the path or the permissions'),
  ERR_SPIFFE_CONFIG_BUNDLE_ENDPOINT_WITH_ANCHORS: e('a trust bundle map entry has both trustAnchors and a bundleEndpoint', 'inline anchors left in place when switching the domain to its bundle endpoint', 'keep one: trustAnchors (static) or bundleEndpoint (fetched)'),
  ERR_SPIFFE_CONFIG_BUNDLE_ENDPOINT_PROFILE: e('a bundleEndpoint profile is not https_web or https_spiffe', 'a misspelt profile', 'use https_web (web pki) or https_spiffe (the endpoint\'s x509-svid)'),
  ERR_SPIFFE_CONFIG_BUNDLE_ENDPOINT_URL: e('a bundleEndpoint url is not an https url with a host', 'an http url, a host:port without scheme, or credentials in the url', 'write "https://HOST:PORT/PATH"; bundle endpoints are served over tls only'),
  ERR_SPIFFE_CONFIG_BUNDLE_ENDPOINT_FIELD: e('a bundleEndpoint field does not belong to its profile', 'caFile with https_spiffe, or endpointSpiffeId / bootstrapBundle with https_web', 'remove the field, or change the profile'),
  ERR_SPIFFE_CONFIG_BUNDLE_ENDPOINT_ID: e('a bundleEndpoint endpointSpiffeId is not a spiffe id', 'a trust domain alone, or a typo in the scheme', 'give the full id the endpoint\'s certificate carries, "spiffe://TD/PATH"'),
  ERR_SPIFFE_CONFIG_BUNDLE_ENDPOINT_PEM: e('a bundleEndpoint caFile or bootstrapBundle cannot be read or holds no usable ca certificate', 'a wrong path (relative to the config file) or a file of another kind', 'point it at a pem file of ca certificates'),
  ERR_SPIFFE_CONFIG_BUNDLE_ENDPOINT_OWN_DOMAIN: e('a pool names a bundle endpoint for its own trust domain', 'the partner\'s config copied with its own domain left in', 'remove the entry: the pool\'s own bundle comes from its ca'),
  ERR_SPIFFE_CONFIG_IDENTITY_IMMUTABLE: e('a reload changes the identity of an existing backend service', 'tlsSettings.identity edited on a running service', 'keep the identity, or create a new backend service with the new one (identities are assigned at creation)'),
  ERR_SPIFFE_CONFIG_IDENTITY_ADDED: e('a reload adds an identity to an existing backend service', 'tlsSettings.identity added to a running service', 'create a new backend service with the identity instead'),
  ERR_SPIFFE_CONFIG_IDENTITY_REMOVED: e('a reload removes the identity of an existing backend service', 'tlsSettings.identity deleted from a running service', 'keep the identity, or delete and recreate the backend service'),
  ERR_SPIFFE_CONFIG_DERIVE_INPUT: e('a certificate or ca root given to `describe` to derive resources is not usable', 'an unreadable or corrupted pem in the state the description reads', 'regenerate the state (run `up` or `ca create-root` again)'),
  ERR_SPIFFE_CONFIG_RESOURCE_NOT_FOUND: e('`describe` found no resource with that name', 'a typo in the name, or a resource of another kind', 'run `describe -c FILE` without a name to list them'),
  ERR_SPIFFE_CONFIG_UNKNOWN_KIND: e('`describe` was given a resource kind it does not know', 'a misspelt kind', 'use one of the kinds the message lists')
} as const satisfies ErrorRegistry

/** One of the {@link CONFIG_ERRORS} codes. */
export type ConfigErrorCode = keyof typeof CONFIG_ERRORS

/** Makes an error with one of the {@link CONFIG_ERRORS} codes. */
export const configError = errorFactory(CONFIG_ERRORS)

/** `src/config` owns the `CONFIG` prefix. */
export const CONFIG_ERROR_REGISTRY: RegistryOwner = { folder: 'config', prefixes: ['CONFIG'], codes: CONFIG_ERRORS }
