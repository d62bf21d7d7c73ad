/**
 * The one list of spiffe-lb's Prometheus metrics (docs/metrics.md): name, type, help and labels.
 * `createMetrics()` and `workerMetrics()` create their instruments from it and docs/metrics.md
 * is generated from it. Names and labels are public API: dashboards and alerts depend on them,
 * so they only ever gain, never change.
 */

/** One metric as exported. `help` is the `# HELP` line and the meaning in docs/metrics.md. */
export interface MetricDefinition {
  readonly name: string
  readonly type: 'counter' | 'gauge' | 'histogram'
  readonly help: string
  readonly labelNames: readonly string[]
  /** Only in a cluster (`serve --workers N`). */
  readonly clusterOnly?: boolean
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
    labelNames: ['resumed']
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
    labelNames: ['spiffe_id']
  },
  svidNextRotation: {
    name: 'spiffe_lb_svid_next_rotation_seconds',
    type: 'gauge',
    help: 'Seconds until the next scheduled SVID rotation (absent when none is scheduled).',
    labelNames: ['spiffe_id']
  },
  credentialReloads: {
    name: 'spiffe_lb_credential_reloads_total',
    type: 'counter',
    help: 'Credential reload attempts by result.',
    labelNames: ['result']
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
    labelNames: ['trust_domain', 'state', 'last_error']
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
    labelNames: ['service']
  },
  endpointHealthy: {
    name: 'spiffe_lb_endpoint_healthy',
    type: 'gauge',
    help: '1 when the endpoint receives traffic (healthy), 0 when ejected.',
    labelNames: ['service', 'endpoint']
  },
  circuitBreakerTrips: {
    name: 'spiffe_lb_circuit_breaker_trips_total',
    type: 'counter',
    help: 'Requests answered 503 by a backend service circuit breaker, by the limit reached.',
    labelNames: ['service', 'reason']
  },
  workerRequests: {
    name: 'spiffe_lb_worker_requests_total',
    type: 'counter',
    help: 'Proxied requests by the cluster worker (slot 1..N) that served them.',
    labelNames: ['worker'],
    clusterOnly: true
  }
} as const satisfies Record<string, MetricDefinition>

/** Returns the prom-client options (name, help, labelNames) of `def`. */
export function instrumentOptions<const D extends MetricDefinition> (def: D): { name: D['name'], help: string, labelNames: D['labelNames'] } {
  return { name: def.name, help: def.help, labelNames: def.labelNames }
}
