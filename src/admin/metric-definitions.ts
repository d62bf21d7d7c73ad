/**
 * The one list of spiffe-lb's Prometheus metrics (docs/metrics.md): name, type, help and labels.
 * `createMetrics()` and `workerMetrics()` create their instruments from it (names, help, labels,
 * buckets), their label types derive from it ({@link LabelsOf}), `serve --workers N` merges each
 * metric over the workers as its `merge` says, and docs/metrics.md is generated from it. Names
 * and labels are public API: dashboards and alerts depend on them, so they only ever gain, never
 * change. Add a metric: an entry here, its instrument and recording method in metrics.ts,
 * `npm run docs` (docs/architecture.md, where to start a change).
 */

/** One metric as exported. `help` is the `# HELP` line and the meaning in docs/metrics.md. */
export interface MetricDefinition {
  readonly name: string
  readonly type: 'counter' | 'gauge' | 'histogram'
  readonly help: string
  readonly labelNames: readonly string[]
  /** Only in a cluster (`serve --workers N`). */
  readonly clusterOnly?: boolean
  /** A histogram's bucket upper bounds, in the metric's unit. */
  readonly buckets?: readonly number[]
  /**
   * How `serve --workers N` shows it: `sum` over the workers (the default: counters, histograms),
   * `min` over them (a 0/1 gauge reads 1 only when every worker says 1), or `primary`: recorded
   * by the primary alone (the credential metrics), never taken from a worker.
   */
  readonly merge?: 'sum' | 'min' | 'primary'
}

/** Every metric, by the key the metrics object uses for it. */
export const METRICS = {
  backendHandshakes: {
    name: 'spiffe_lb_backend_handshakes_total',
    type: 'counter',
    help: 'Backend mTLS handshakes by result (ok or the reject reason), backend trust domain and resumption.',
    labelNames: ['result', 'trust_domain', 'resumed']
  },
  backendHandshakeDuration: {
    name: 'spiffe_lb_backend_handshake_duration_seconds',
    type: 'histogram',
    help: 'Backend connect + TLS handshake + SPIFFE verification time.',
    labelNames: ['resumed'],
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]
  },
  backendConnectionsWithdrawn: {
    name: 'spiffe_lb_backend_connections_withdrawn_total',
    type: 'counter',
    help: 'Open backend connections ended, with every stream on them, because trust was withdrawn: by error code (the backend no longer verifies, or our SVID is unusable) and the precise rule broken (docs/errors.md).',
    labelNames: ['code', 'reason']
  },
  svidExpiry: {
    name: 'spiffe_lb_svid_expiry_seconds',
    type: 'gauge',
    help: 'Seconds until the X.509-SVID in force expires (negative once expired; absent without an SVID).',
    labelNames: ['spiffe_id'],
    merge: 'primary'
  },
  svidNextRotation: {
    name: 'spiffe_lb_svid_next_rotation_seconds',
    type: 'gauge',
    help: 'Seconds until the next scheduled SVID rotation (absent when none is scheduled).',
    labelNames: ['spiffe_id'],
    merge: 'primary'
  },
  credentialReloads: {
    name: 'spiffe_lb_credential_reloads_total',
    type: 'counter',
    help: 'Credential reload attempts by result.',
    labelNames: ['result'],
    merge: 'primary'
  },
  credentialSource: {
    name: 'spiffe_lb_credential_source_info',
    type: 'gauge',
    help: 'Always 1: where the SVID in force comes from, the state of that source\'s connection (empty for sources without one) and the code of its last error (empty when the last attempt succeeded).',
    labelNames: ['spiffe_id', 'source', 'state', 'last_error']
  },
  federatedBundleAge: {
    name: 'spiffe_lb_federated_bundle_age_seconds',
    type: 'gauge',
    help: 'Per trust domain federated by bundle endpoint: seconds since its last good fetch (-1 before the first), with the poller\'s state (pending, fresh, stale, withdrawn) and the code of its last error (empty after a good fetch).',
    labelNames: ['trust_domain', 'state', 'last_error'],
    merge: 'primary'
  },
  inboundHandshakes: {
    name: 'spiffe_lb_inbound_handshakes_total',
    type: 'counter',
    help: 'Client connections to the inbound mTLS listener (frontend.serverTlsPolicy) by outcome (accepted, forwarded, not-allowed, refused, ended), the rule broken (empty when accepted) and the client\'s verified trust domain (empty when not verified).',
    labelNames: ['outcome', 'code', 'trust_domain']
  },
  inboundRequests: {
    name: 'spiffe_lb_inbound_requests_total',
    type: 'counter',
    help: 'Requests over the inbound mTLS listener by the client\'s verified trust domain (empty when not verified) and status code sent.',
    labelNames: ['trust_domain', 'code']
  },
  requests: {
    name: 'spiffe_lb_requests_total',
    type: 'counter',
    help: 'Proxied requests by backend service, status code sent and endpoint.',
    labelNames: ['service', 'code', 'endpoint']
  },
  requestProtocols: {
    name: 'spiffe_lb_request_protocols_total',
    type: 'counter',
    help: 'Proxied requests by backend service, client protocol and backend protocol (HTTP/1.1, HTTP/2.0; empty when no backend answered).',
    labelNames: ['service', 'protocol', 'backend_protocol']
  },
  requestDuration: {
    name: 'spiffe_lb_request_duration_seconds',
    type: 'histogram',
    help: 'Time from request received to response finished, by backend service.',
    labelNames: ['service'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60]
  },
  endpointHealthy: {
    name: 'spiffe_lb_endpoint_healthy',
    type: 'gauge',
    help: '1 when the endpoint receives traffic (healthy), 0 when ejected.',
    labelNames: ['service', 'endpoint'],
    merge: 'min'
  },
  circuitBreakerTrips: {
    name: 'spiffe_lb_circuit_breaker_trips_total',
    type: 'counter',
    help: 'Requests answered 503 by a backend service circuit breaker, by the limit reached.',
    labelNames: ['service', 'reason']
  },
  frontendLimitHits: {
    name: 'spiffe_lb_frontend_limit_hits_total',
    type: 'counter',
    help: 'Clients that hit a frontend.limits limit, by limit: http2MaxResetStreams (connection sent GOAWAY ENHANCE_YOUR_CALM and closed), maxHeaderSize (request head answered 431), requestTimeout (request not received in time), headersTimeout (cleartext HTTP/1.1 head not received in time, 408).',
    labelNames: ['limit']
  },
  workerRequests: {
    name: 'spiffe_lb_worker_requests_total',
    type: 'counter',
    help: 'Proxied requests by the cluster worker (slot 1..N) that served them.',
    labelNames: ['worker'],
    clusterOnly: true
  }
} as const satisfies Record<string, MetricDefinition>

/** The key of a metric in {@link METRICS}. */
export type MetricKey = keyof typeof METRICS
/** The label names of metric `K`, as prom-client's instrument types take them: `Counter<LabelsOf<'requests'>>`. */
export type LabelsOf<K extends MetricKey> = (typeof METRICS)[K]['labelNames'][number]

/** Returns the prom-client options (name, help, labelNames, and a histogram's buckets) of `def`. */
export function instrumentOptions<const D extends MetricDefinition> (def: D): { name: D['name'], help: string, labelNames: D['labelNames'], buckets?: number[] } {
  return { name: def.name, help: def.help, labelNames: def.labelNames, ...(def.buckets === undefined ? {} : { buckets: [...def.buckets] }) }
}

/** Returns the names of the metrics whose {@link MetricDefinition.merge} is `merge` (`sum` when unset). */
export function metricsMerged (merge: NonNullable<MetricDefinition['merge']>): string[] {
  return Object.values(METRICS as Record<string, MetricDefinition>).filter((d) => (d.merge ?? 'sum') === merge).map((d) => d.name)
}
