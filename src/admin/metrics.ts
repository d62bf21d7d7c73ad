/**
 * Prometheus metrics of spiffe-lb (docs/metrics.md), in their own registry so an embedding
 * application's default registry is left alone. The metric names and labels are public API:
 * dashboards and alerts depend on them, so they only ever gain, never change.
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client'
import { systemClock, type Clock } from '../internal/clock.ts'
import type { IdentityProvider } from './status.ts'

/** Every metric name, as exported. */
export const METRIC_NAMES = {
  backendHandshakes: 'spiffe_lb_backend_handshakes_total',
  backendHandshakeDuration: 'spiffe_lb_backend_handshake_duration_seconds',
  svidExpiry: 'spiffe_lb_svid_expiry_seconds',
  svidNextRotation: 'spiffe_lb_svid_next_rotation_seconds',
  credentialReloads: 'spiffe_lb_credential_reloads_total',
  credentialSource: 'spiffe_lb_credential_source_info',
  requests: 'spiffe_lb_requests_total',
  requestProtocols: 'spiffe_lb_request_protocols_total',
  requestDuration: 'spiffe_lb_request_duration_seconds',
  endpointHealthy: 'spiffe_lb_endpoint_healthy',
  circuitBreakerTrips: 'spiffe_lb_circuit_breaker_trips_total'
} as const

/** One backend handshake as the TLS connector reports it (`HandshakeEvent` fits). */
export interface HandshakeObservation {
  /** `ok` or the stable reject reason / error code. */
  result: string
  /** The backend's trust domain when known. */
  trustDomain?: string
  resumed: boolean
  durationMs: number
}

/** The metrics object: prom-client instruments plus the recording methods the modules call. */
export interface SpiffeLbMetrics {
  readonly registry: Registry
  readonly backendHandshakes: Counter<'result' | 'trust_domain' | 'resumed'>
  readonly backendHandshakeDuration: Histogram<'resumed'>
  readonly svidExpiry: Gauge<'spiffe_id'>
  readonly svidNextRotation: Gauge<'spiffe_id'>
  readonly credentialReloads: Counter<'result'>
  readonly credentialSource: Gauge<'spiffe_id' | 'source' | 'state' | 'last_error'>
  readonly requests: Counter<'service' | 'code' | 'endpoint'>
  readonly requestDuration: Histogram<'service'>
  readonly endpointHealthy: Gauge<'service' | 'endpoint'>
  readonly circuitBreakerTrips: Counter<'service' | 'reason'>
  /** Records a backend handshake (wire to the connector's `onHandshake`). */
  observeHandshake (event: HandshakeObservation): void
  /** Records a credential reload attempt (`accepted`, `unchanged`, `rejected`, …). */
  observeCredentialReload (result: string): void
  /** Records a finished proxied request (the proxy's `ProxyMetrics`). */
  observeRequest (r: { service: string, endpoint: string, code: number, durationSeconds: number, protocol?: string, backendProtocol?: string }): void
  setEndpointHealthy (service: string, endpoint: string, healthy: boolean): void
  /** Counts a request a circuit breaker refused with 503; `reason` names the limit. */
  observeCircuitBreaker (service: string, reason: string): void
  removeEndpoint (service: string, endpoint: string): void
  /** Sets where the SVID expiry and rotation gauges read from at scrape time. */
  setIdentityProvider (provider: IdentityProvider): void
  /** Returns the Prometheus text exposition. */
  text (): Promise<string>
}

/** Options of {@link createMetrics}. */
export interface MetricsOptions {
  clock?: Clock
  identity?: IdentityProvider
}

/** Returns a fresh {@link SpiffeLbMetrics} with its own `Registry`. */
export function createMetrics (options: MetricsOptions = {}): SpiffeLbMetrics {
  const clock = options.clock ?? systemClock
  let identity = options.identity
  const registry = new Registry()
  const registers = [registry]

  const backendHandshakes = new Counter({
    name: METRIC_NAMES.backendHandshakes,
    help: 'Backend mTLS handshakes by result (ok or the reject reason), backend trust domain and resumption.',
    labelNames: ['result', 'trust_domain', 'resumed'] as const,
    registers
  })
  const backendHandshakeDuration = new Histogram({
    name: METRIC_NAMES.backendHandshakeDuration,
    help: 'Backend connect + TLS handshake + SPIFFE verification time.',
    labelNames: ['resumed'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers
  })
  const svidExpiry = new Gauge({
    name: METRIC_NAMES.svidExpiry,
    help: 'Seconds until the X.509-SVID in force expires (negative once expired; absent without an SVID).',
    labelNames: ['spiffe_id'] as const,
    registers,
    collect () {
      // Labelled by ID so that "no SVID" is an absent series rather than a misleading 0.
      this.reset()
      const id = identity?.()
      if (id !== undefined) this.set({ spiffe_id: id.spiffeId }, (id.notAfter - clock.now()) / 1000)
    }
  })
  const svidNextRotation = new Gauge({
    name: METRIC_NAMES.svidNextRotation,
    help: 'Seconds until the next scheduled SVID rotation (absent when none is scheduled).',
    labelNames: ['spiffe_id'] as const,
    registers,
    collect () {
      this.reset()
      const id = identity?.()
      if (id?.nextRotationAt !== undefined) this.set({ spiffe_id: id.spiffeId }, (id.nextRotationAt - clock.now()) / 1000)
    }
  })
  const credentialReloads = new Counter({
    name: METRIC_NAMES.credentialReloads,
    help: 'Credential reload attempts by result.',
    labelNames: ['result'] as const,
    registers
  })
  const credentialSource = new Gauge({
    name: METRIC_NAMES.credentialSource,
    help: 'Always 1: where the SVID in force comes from, the state of that source\'s connection (empty for sources without one) and the code of its last error (empty when the last attempt succeeded).',
    labelNames: ['spiffe_id', 'source', 'state', 'last_error'] as const,
    registers,
    collect () {
      this.reset()
      const id = identity?.()
      if (id?.source === undefined) return
      const code = id.lastError === undefined ? '' : id.lastError.split(':', 1)[0] ?? ''
      this.set({ spiffe_id: id.spiffeId, source: id.source, state: id.sourceState ?? '', last_error: code }, 1)
    }
  })
  const requests = new Counter({
    name: METRIC_NAMES.requests,
    help: 'Proxied requests by backend service, status code sent and endpoint.',
    labelNames: ['service', 'code', 'endpoint'] as const,
    registers
  })
  const requestProtocols = new Counter({
    name: METRIC_NAMES.requestProtocols,
    help: 'Proxied requests by backend service, client protocol and backend protocol (HTTP/1.1, HTTP/2.0; empty when no backend answered).',
    labelNames: ['service', 'protocol', 'backend_protocol'] as const,
    registers
  })
  const requestDuration = new Histogram({
    name: METRIC_NAMES.requestDuration,
    help: 'Time from request received to response finished, by backend service.',
    labelNames: ['service'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers
  })
  const endpointHealthy = new Gauge({
    name: METRIC_NAMES.endpointHealthy,
    help: '1 when the endpoint receives traffic (healthy), 0 when ejected.',
    labelNames: ['service', 'endpoint'] as const,
    registers
  })
  const circuitBreakerTrips = new Counter({
    name: METRIC_NAMES.circuitBreakerTrips,
    help: 'Requests answered 503 by a backend service circuit breaker, by the limit reached.',
    labelNames: ['service', 'reason'] as const,
    registers
  })

  // Per-request label lookups (prom-client hashes the label object on every inc/observe) were a
  // visible share of pooled CPU: the children are bound once per label combination and kept.
  // The combinations are bounded by the config (services × endpoints × status codes, results ×
  // trust domains); nothing here removes or resets these series.
  const handshakeCounters = boundChildren((k: string[]) => backendHandshakes.labels(...k))
  const handshakeDurations = boundChildren((k: string[]) => backendHandshakeDuration.labels(...k))
  const requestCounters = boundChildren((k: string[]) => requests.labels(...k))
  const requestDurations = boundChildren((k: string[]) => requestDuration.labels(...k))
  const protocolCounters = boundChildren((k: string[]) => requestProtocols.labels(...k))

  return {
    registry,
    circuitBreakerTrips,
    backendHandshakes,
    backendHandshakeDuration,
    svidExpiry,
    svidNextRotation,
    credentialReloads,
    credentialSource,
    requests,
    requestDuration,
    endpointHealthy,
    observeHandshake (e) {
      const resumed = e.resumed ? 'true' : 'false'
      handshakeCounters(e.result, e.trustDomain ?? '', resumed).inc()
      handshakeDurations(resumed).observe(e.durationMs / 1000)
    },
    observeCredentialReload (result) { credentialReloads.inc({ result }) },
    observeRequest (r) {
      requestCounters(r.service, String(r.code), r.endpoint).inc()
      requestDurations(r.service).observe(r.durationSeconds)
      if (r.protocol !== undefined) protocolCounters(r.service, r.protocol, r.backendProtocol ?? '').inc()
    },
    setEndpointHealthy (service, endpoint, healthy) { endpointHealthy.set({ service, endpoint }, healthy ? 1 : 0) },
    removeEndpoint (service, endpoint) { endpointHealthy.remove({ service, endpoint }) },
    observeCircuitBreaker (service, reason) { circuitBreakerTrips.inc({ service, reason }) },
    setIdentityProvider (provider) { identity = provider },
    text: async () => await registry.metrics()
  }
}

/**
 * Returns a memo of `bind` by its label values (in the metric's `labelNames` order): the
 * prom-client child of each label combination, bound on first use.
 */
function boundChildren<C> (bind: (values: string[]) => C): (...values: string[]) => C {
  const children = new Map<string, C>()
  return (...values) => {
    const key = values.join('\u0000')
    let child = children.get(key)
    if (child === undefined) children.set(key, child = bind(values))
    return child
  }
}
