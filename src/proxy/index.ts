// Public API of src/proxy: the reverse proxy (docs/architecture.md#layers proxy).
export { createProxy } from './proxy.ts'
export type { ReverseProxy } from './proxy.ts'
export { plainConnector } from './plain-connector.ts'
export { compileUrlMap, normalizeHost } from './router.ts'
export type { Router } from './router.ts'
export { createBalancer } from './balancer.ts'
export type { Balanced, Balancer } from './balancer.ts'
export { LB_POLICIES } from '../enums.ts'
export type {
  ConnectFn, ConnectionPoolOptions, EndpointAddress, EndpointStatus, FrontendOptions, HealthCheckOptions,
  AccessRecord, HostRule, LbPolicy, PathMatcher, PathRule, PeerIdentity, ProxyLogger, ProxyMetrics, ProxyOptions, ProxyStatus,
  RoutingOptions, ServiceOptions, ServiceStatus, UrlMapOptions
} from './types.ts'
