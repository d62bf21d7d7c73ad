/**
 * spiffe-lb library entry. The SPIFFE core (IDs, trust domains, bundles, X.509-SVIDs and
 * their verification) is re-exported here; see DESIGN.md section 3 for the module layout.
 */
export * from './spiffe/index.ts'
export { SpiffeLbError, isSpiffeLbError } from './internal/errors.ts'
export * from './pki/index.ts'
export * from './config/index.ts'
export * from './tls/index.ts'
export {
  createProxy, plainConnector, compileUrlMap, normalizeHost, createBalancer, LB_POLICIES
} from './proxy/index.ts'
export type {
  ReverseProxy, Router, Balanced, Balancer, ConnectionPoolOptions, EndpointAddress, EndpointStatus, FrontendOptions,
  HealthCheckOptions, HostRule, LbPolicy, PathMatcher, PathRule, PeerIdentity, ProxyLogger, ProxyMetrics, ProxyOptions,
  ProxyStatus, RoutingOptions, ServiceOptions, ServiceStatus, UrlMapOptions
} from './proxy/index.ts'
export * from './admin/index.ts'
export * from './credentials/index.ts'
export * from './control/index.ts'
export * from './bench/index.ts'
