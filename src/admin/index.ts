// Public API of src/admin: Prometheus metrics and the read-only admin listener (docs/metrics.md).
export { METRIC_NAMES, createMetrics } from './metrics.ts'
export type { HandshakeObservation, MetricsOptions, SpiffeLbMetrics } from './metrics.ts'
export { createAdminServer } from './admin-server.ts'
export type { AdminServer, AdminServerOptions } from './admin-server.ts'
export { readiness, statusDocument } from './status.ts'
export type { AdminProviders, EndpointHealth, IdentityProvider, IdentityStatus, Readiness, ServiceHealth, TrustDomainStatus } from './status.ts'
