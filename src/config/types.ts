/**
 * Over 250 lines: the resolved config model is one vocabulary that every layer reads; split, it
 * would be read across files for every change.
 */
import type { KeyAlgorithm } from '../pki/key-algorithm.ts'
import type { BundleSet } from '../spiffe/bundle-set.ts'
import type { SpiffeIdPattern } from '../spiffe/id-pattern.ts'
import type { SpiffeId } from '../spiffe/spiffe-id.ts'
import type { TrustDomain } from '../spiffe/trust-domain.ts'
import type { HostPort } from '../internal/host-port.ts'
import type { BackendProtocol, ClientCertVariable, ClientValidationMode, CredentialSourceKind, LbPolicy, StaleCrlPolicy } from '../enums.ts'
import type { X509Bundle } from '../spiffe/x509-bundle.ts'

/**
 * The resolved, validated config (config/schema.ts): durations in ms, identities as
 * {@link SpiffeId} plus the cloud's `//…` form, bundles parsed, endpoints as host and port,
 * paths absolute. Built only by `parseConfig`; never partially valid.
 */
export interface SpiffeLbConfig {
  /** The file (or label) the config came from. */
  source: string
  /** Relative paths in the file were resolved against this directory. */
  baseDir: string
  /** Absent only when no part of the config is in the cloud's form (a SPIFFE-ID identity, a delivering source, no pools). */
  project: { id: string, number: string } | undefined
  caPools: CaPoolConfig[]
  workloadIdentityPools: WorkloadIdentityPoolConfig[]
  backendServices: BackendServiceConfig[]
  urlMap: UrlMapConfig
  frontend: {
    listen: HostPort
    tls: { certFile: string, keyFile: string } | undefined
    limits: FrontendLimitsConfig
    allowTrace: boolean
    /** Inbound mode: the frontend terminates mTLS in front of an application. */
    serverTlsPolicy: ServerTlsPolicyConfig | undefined
  }
  /** `allowedHosts`: lowercase dns names the admin listener answers besides ip literals and localhost. */
  admin: { listen: HostPort, allowedHosts: string[] }
  credentials: CredentialsConfig
  /**
   * Extension: trust bundles for identities outside every workload identity pool (a SPIFFE-ID
   * `tlsSettings.identity`), merged with what the credential source delivers.
   */
  trustBundles: { additionalTrustBundles: BundleSet, bundleEndpoints: BundleEndpointConfig[] }
  /** Extension: CRLs per trust domain (empty when the block is absent). */
  revocation: RevocationConfig
}

/** The `revocation` extension, resolved: CRL files (absolute) and urls per trust domain. */
export interface RevocationConfig {
  trustDomains: Array<{
    trustDomain: string
    crlFiles: string[]
    crlUrls: string[]
    /** `fail-closed` (the default) or `fail-open`. */
    staleCrl: StaleCrlPolicy
  }>
}

/** `frontend.serverTlsPolicy`, resolved. */
export interface ServerTlsPolicyConfig {
  /** The SVID of `identity` from the credential source, or a certificate and key file (absolute). */
  serverCertificate: { identity: SpiffeId } | { certFile: string, keyFile: string }
  clientValidationMode: ClientValidationMode
  /** Client IDs let in (a trust domain is `spiffe://TD/**`); undefined = any verified client. */
  allowedPeers: SpiffeIdPattern[] | undefined
}

/** One piece of a custom header value: literal text or a `{variable}`. */
export type HeaderPart = { text: string } | { variable: ClientCertVariable }

/** One `customRequestHeaders` entry, parsed: the header name (lowercase) and its value template. */
export interface CustomHeaderConfig { name: string, parts: HeaderPart[] }

/** A CA Service pool and its root CAs, created locally on first use. */
export interface CaPoolConfig {
  /** `projects/N/locations/REGION/caPools/POOL` as written. */
  name: string
  location: string
  poolId: string
  certificateAuthorities: Array<{
    id: string
    subject: string
    keyAlgorithm: KeyAlgorithm
    maxChainLength: number | undefined
    lifetimeMs: number
  }>
}

/** A workload identity pool in `TRUST_DOMAIN` mode. */
export interface WorkloadIdentityPoolConfig {
  id: string
  /** `projects/N/locations/global/workloadIdentityPools/ID` */
  name: string
  mode: 'TRUST_DOMAIN'
  /** `ID.global.N.workload.id.goog` */
  trustDomain: TrustDomain
  /** Required when credentials come from the local issuer; see the seeds' "inline certificate issuance config". */
  inlineCertificateIssuanceConfig: CertificateIssuanceConfig | undefined
  /** Extra trust domains (and extra anchors for the pool's own domain), one bundle per domain. */
  additionalTrustBundles: BundleSet
  /** Extension: federated domains whose bundle is fetched from a SPIFFE bundle endpoint. */
  bundleEndpoints: BundleEndpointConfig[]
  namespaces: Array<{ id: string, managedIdentities: ManagedIdentityConfig[] }>
}

/**
 * A federated trust domain's bundle endpoint (SPIFFE Federation §5): the url, how it is
 * authenticated, and how long its last fetched bundle is trusted without a successful fetch.
 */
export type BundleEndpointConfig = {
  trustDomain: TrustDomain
  url: string
  maxBundleAgeMs: number
} & ({
  profile: 'https_web'
  /** PEM of the CAs that vouch for the endpoint's server certificate; absent: the system roots. */
  caPem?: string
} | {
  profile: 'https_spiffe'
  /** The SPIFFE ID the endpoint's server certificate must carry. */
  endpointSpiffeId: SpiffeId
  /** The bundle of the endpoint ID's trust domain, used until a newer one of that domain is fetched. */
  bootstrapBundle: X509Bundle
})

/** How certificates for a pool's identities are issued. */
export interface CertificateIssuanceConfig {
  /** region → CA pool name, as written. */
  caPools: Record<string, string>
  lifetimeMs: number
  /** 50–80: renewal starts when this share of the lifetime has passed. */
  rotationWindowPercentage: number
  keyAlgorithm: KeyAlgorithm
}

/** A managed identity `spiffe://TD/ns/NS/sa/ID` and who may be issued a certificate for it. */
export interface ManagedIdentityConfig {
  id: string
  identity: ManagedIdentityName
  /** `googleCloudResource` patterns; `*` matches one path segment or its tail. */
  attestationRules: Array<{ googleCloudResource: string }>
}

/**
 * A `tlsSettings.identity`: a managed identity of a workload identity pool (the cloud's form), or
 * any SPIFFE ID delivered by a credential source (`spiffe://example.org/ns/lb/sa/frontend`).
 */
export type ResolvedIdentity = ManagedIdentityName | SpiffeIdentityName

/** Any SPIFFE ID, as written: the credential source delivers its SVID and bundles. */
export interface SpiffeIdentityName {
  form: 'spiffe'
  /** As written (`spiffe://…`). */
  name: string
  spiffeId: SpiffeId
}

/** An identity in both forms: `//POOL.global.N.workload.id.goog/ns/NS/sa/ID` and the SPIFFE ID. */
export interface ManagedIdentityName {
  form: 'managed'
  /** The cloud's form, as in `tlsSettings.identity`. */
  name: string
  spiffeId: SpiffeId
  poolId: string
  projectNumber: string
  namespace: string
  managedIdentity: string
}

/** The config's name for a {@link LbPolicy}. */
export type LocalityLbPolicy = LbPolicy

/** Extension `frontend.limits`; an absent field takes the proxy's default (src/proxy/limits.ts). */
export interface FrontendLimitsConfig {
  maxConnections?: number
  headersTimeoutMs?: number
  requestTimeoutMs?: number
  keepAliveTimeoutMs?: number
  maxHeaderSize?: number
  http2MaxConcurrentStreams?: number
  http2MaxResetStreams?: number
  http2ResetStreamsWindowMs?: number
}

/** `outlierDetection` as configured; absent fields take the cloud's defaults (src/proxy/limits.ts). */
export interface OutlierDetectionConfig {
  consecutiveErrors?: number
  consecutiveGatewayFailure?: number
  enforcingConsecutiveErrors?: number
  enforcingConsecutiveGatewayFailure?: number
  baseEjectionTimeMs?: number
  maxEjectionPercent?: number
}

/** A backend service: the LB's client side towards a set of mTLS backends. */
export interface BackendServiceConfig {
  name: string
  /** `//compute.googleapis.com/projects/N/type/BackendService/NAME`: what attestation rules match. */
  resource: string
  /**
   * `HTTPS`: HTTP/1.1 over mTLS; `HTTP2`: HTTP/2 over mTLS (ALPN must select `h2`); `HTTP`:
   * cleartext HTTP/1.1 to a loopback application, only behind `frontend.serverTlsPolicy`.
   */
  protocol: BackendProtocol
  /** `customRequestHeaders`: added to every forwarded request after same-named client headers are removed. */
  customRequestHeaders: CustomHeaderConfig[]
  localityLbPolicy: LocalityLbPolicy
  timeoutMs: number
  tlsSettings: {
    /** The managed identity; immutable once the service exists. */
    identity: ResolvedIdentity | undefined
    sni: string | undefined
    subjectAltNames: Array<{ dnsName?: string | undefined, uniformResourceIdentifier?: string | undefined }>
    authenticationConfig: string | undefined
  }
  backends: Array<{ endpoints: HostPort[] }>
  healthCheck: {
    requestPath: string
    checkIntervalMs: number
    timeoutMs: number
    healthyThreshold: number
    unhealthyThreshold: number
  } | undefined
  /**
   * Extension of the cloud model: the backend SPIFFE IDs accepted; undefined = any valid SVID of
   * a trusted domain, as in the cloud.
   */
  authorization: { allowedPeers: SpiffeIdPattern[] } | undefined
  connectionPool: {
    /** 0 = unlimited */
    maxRequestsPerConnection: number
    tlsSessionResumption: boolean
    /** Key-exchange groups offered to the backends, e.g. `['X25519MLKEM768', 'X25519']`; undefined = the connector's default (X25519, P-256). */
    keyExchangeGroups?: string[] | undefined
    /** Concurrent streams on one HTTP/2 backend connection (protocol HTTP2). */
    maxConcurrentStreams: number
  }
  /** `circuitBreakers`; an absent field is no limit. */
  circuitBreakers: { maxConnections?: number, maxPendingRequests?: number, maxRequests?: number, maxRetries?: number } | undefined
  outlierDetection: OutlierDetectionConfig | undefined
}

/** Routing in the cloud's URL map shape; services are backend service names. */
export interface UrlMapConfig {
  defaultService: string
  hostRules: Array<{ hosts: string[], pathMatcher: string }>
  pathMatchers: Array<{
    name: string
    defaultService: string
    pathRules: Array<{ paths: string[], service: string }>
  }>
}

export type { CredentialSourceKind } from '../enums.ts'

/** Where the proxy's own SVID and trust bundles come from. */
export interface CredentialsConfig {
  source: CredentialSourceKind
  /** The GCE credential directory (absolute). */
  directory: string
  /** Base URL of the `gce-workload-certificates` metadata endpoints. */
  metadataUrl: string
  pollIntervalMs: number
  /**
   * The SPIFFE Workload API address (`unix:///path`, `tcp://IP:port`) for `workload-api`, as
   * written; absent means `$SPIFFE_ENDPOINT_SOCKET`. Checked when the source starts.
   */
  endpoint?: string
  /** The local control plane's state (CA keys, issued certificates), absolute. */
  stateDir: string
}
