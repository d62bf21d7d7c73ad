/**
 * spiffe-lb library entry: the public API, by name. SPIFFE IDs, trust domains and bundles,
 * X.509-SVID parsing and verification, the credential sources and store, the backend connector
 * and the proxy. Benchmarks, the local control plane and the server runtime are programs, not
 * library API. Layers and rules: docs/architecture.md.
 */
export { SpiffeLbError, isSpiffeLbError } from './internal/errors.ts'

export {
  TrustDomain, SpiffeId, MAX_SPIFFE_ID_BYTES, MAX_TRUST_DOMAIN_BYTES, X509Bundle, fingerprint, BundleSet,
  parseSpiffeBundleMap, parseSpiffeTrustStores, parseTrustBundlesMap, X509Svid, MAX_PRESENTED_CERTIFICATES,
  verifyX509Svid, certInfo, certLabel, staticSnapshotSource
} from './spiffe/index.ts'
export type {
  VerifiedSvid, VerifyOptions, SvidRole, CertInfo, KeyUsageInfo, GeneralName, GeneralNameKind,
  X509BundleSource, X509SvidSource, X509Snapshot, X509SnapshotSource
} from './spiffe/index.ts'

export {
  CredentialStore, CredentialSnapshot, createIssuerSource, IssuerSource, createDirectorySource, DirectorySource,
  createMetadataSource, MetadataSource, readCredentialDirectory, GCE_CREDENTIALS_DIR, GCE_FILES,
  createWorkloadApiSource, WorkloadApiSource, parseWorkloadApiEndpoint, CREDENTIALS_ERROR
} from './credentials/index.ts'
export type {
  CredentialStoreOptions, AttemptOutcome, CredentialError, CredentialReloadResult, CredentialStatus, NotReadyReason,
  CredentialSource, IssueRequest, IssuerSourceOptions, DirectorySourceOptions, MetadataSourceOptions,
  WorkloadApiSourceOptions, WorkloadApiConnection, WorkloadApiEndpoint
} from './credentials/index.ts'

export { createBackendConnector, peerIdentity, verifiedPeer, TLS_ERROR, TlsPeerRejectedError, TlsTrustWithdrawnError } from './tls/index.ts'
export type {
  BackendConnector, BackendConnectorOptions, ConnectCallback, ConnectOptions, HandshakeEvent, TrustWithdrawnEvent, VerifiedPeer, TlsErrorCode
} from './tls/index.ts'

export { createProxy, plainConnector, compileUrlMap, normalizeHost, createBalancer, LB_POLICIES } from './proxy/index.ts'
export type {
  ReverseProxy, Router, Balanced, Balancer, ConnectFn, ConnectionPoolOptions, EndpointAddress, EndpointStatus,
  AccessRecord, FrontendOptions, HealthCheckOptions, HostRule, LbPolicy, PathMatcher, PathRule, PeerIdentity, ProxyLogger,
  ProxyMetrics, ProxyOptions, ProxyStatus, RoutingOptions, ServiceOptions, ServiceStatus, UrlMapOptions
} from './proxy/index.ts'
