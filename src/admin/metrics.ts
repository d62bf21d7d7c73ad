/**
 * Prometheus metrics of spiffe-lb (docs/metrics.md), in their own registry so an embedding
 * application's default registry is left alone. Names, help and labels come from the one list
 * in metric-definitions.ts (public API: they only ever gain, never change).
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client'
import { systemClock, type Clock } from '../internal/clock.ts'
import { METRICS, instrumentOptions, type LabelsOf, type MetricKey } from './metric-definitions.ts'
import type { FederatedDomainStatus, IdentityProvider } from './status.ts'
import { counterTally } from './counter-tally.ts'

/** The metrics {@link createMetrics} records: every one of {@link METRICS} but the cluster-only one. */
type RecordedKey = Exclude<MetricKey, 'workerRequests'>

/** Every metric name {@link createMetrics} exports, by its key in {@link METRICS} (derived: nothing to add here). */
export const METRIC_NAMES = Object.fromEntries(Object.entries(METRICS).filter(([, d]) => !('clusterOnly' in d)).map(([k, d]) => [k, d.name])) as
  { readonly [K in RecordedKey]: (typeof METRICS)[K]['name'] }

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
  readonly backendHandshakes: Counter<LabelsOf<'backendHandshakes'>>
  readonly backendHandshakeDuration: Histogram<LabelsOf<'backendHandshakeDuration'>>
  readonly backendConnectionsWithdrawn: Counter<LabelsOf<'backendConnectionsWithdrawn'>>
  readonly svidExpiry: Gauge<LabelsOf<'svidExpiry'>>
  readonly svidNextRotation: Gauge<LabelsOf<'svidNextRotation'>>
  readonly credentialReloads: Counter<LabelsOf<'credentialReloads'>>
  readonly credentialSource: Gauge<LabelsOf<'credentialSource'>>
  readonly requests: Counter<LabelsOf<'requests'>>
  readonly requestDuration: Histogram<LabelsOf<'requestDuration'>>
  readonly endpointHealthy: Gauge<LabelsOf<'endpointHealthy'>>
  readonly circuitBreakerTrips: Counter<LabelsOf<'circuitBreakerTrips'>>
  readonly frontendLimitHits: Counter<LabelsOf<'frontendLimitHits'>>
  /** Records a backend handshake (wire to the connector's `onHandshake`). */
  observeHandshake (event: HandshakeObservation): void
  /** Counts an open backend connection ended because trust was withdrawn (wire to the connector's `onTrustWithdrawn`). */
  observeTrustWithdrawn (event: { code: string, reason: string }): void
  /** Records a credential reload attempt (`accepted`, `unchanged`, `rejected`, …). */
  observeCredentialReload (result: string): void
  /** Records a finished proxied request (the proxy's `ProxyMetrics`). */
  observeRequest (r: { service: string, endpoint: string, code: number, durationSeconds: number, protocol?: string, backendProtocol?: string }): void
  setEndpointHealthy (service: string, endpoint: string, healthy: boolean): void
  /** Counts a request a circuit breaker refused with 503; `reason` names the limit. */
  observeCircuitBreaker (service: string, reason: string): void
  /** Counts a client that hit the `frontend.limits` limit `limit`. */
  observeFrontendLimit (limit: string): void
  /** Counts a judged client connection of the inbound listener (the proxy's `ProxyMetrics`). */
  observeInboundHandshake (outcome: string, code: string, trustDomain: string): void
  /** Counts a request over the inbound listener by its client's verified trust domain. */
  observeInboundRequest (trustDomain: string, code: number): void
  removeEndpoint (service: string, endpoint: string): void
  /** Sets where the SVID expiry and rotation gauges read from at scrape time. */
  setIdentityProvider (provider: IdentityProvider): void
  /** Sets where the federated bundle gauge reads from at scrape time. */
  setFederationProvider (provider: () => readonly FederatedDomainStatus[]): void
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
    ...instrumentOptions(METRICS.backendHandshakes),
    registers,
    collect () { handshakeTally.flush() }
  })
  const backendHandshakeDuration = new Histogram({
    ...instrumentOptions(METRICS.backendHandshakeDuration),
    registers
  })
  const backendConnectionsWithdrawn = new Counter({
    ...instrumentOptions(METRICS.backendConnectionsWithdrawn),
    registers
  })
  const svidExpiry = new Gauge({
    ...instrumentOptions(METRICS.svidExpiry),
    registers,
    collect () {
      // Labelled by ID so that "no SVID" is an absent series rather than a misleading 0.
      this.reset()
      const id = identity?.()
      if (id !== undefined) this.set({ spiffe_id: id.spiffeId }, (id.notAfter - clock.now()) / 1000)
    }
  })
  const svidNextRotation = new Gauge({
    ...instrumentOptions(METRICS.svidNextRotation),
    registers,
    collect () {
      this.reset()
      const id = identity?.()
      if (id?.nextRotationAt !== undefined) this.set({ spiffe_id: id.spiffeId }, (id.nextRotationAt - clock.now()) / 1000)
    }
  })
  const credentialReloads = new Counter({
    ...instrumentOptions(METRICS.credentialReloads),
    registers
  })
  const credentialSource = new Gauge({
    ...instrumentOptions(METRICS.credentialSource),
    registers,
    collect () {
      this.reset()
      const id = identity?.()
      if (id?.source === undefined) return
      const code = id.lastError === undefined ? '' : id.lastError.split(':', 1)[0] ?? ''
      this.set({ spiffe_id: id.spiffeId, source: id.source, state: id.sourceState ?? '', last_error: code }, 1)
    }
  })
  let federation: (() => readonly FederatedDomainStatus[]) | undefined
  new Gauge({ // eslint-disable-line no-new
    ...instrumentOptions(METRICS.federatedBundleAge),
    registers,
    collect () {
      this.reset()
      for (const d of federation?.() ?? []) {
        const code = d.lastError === undefined ? '' : d.lastError.split(':', 1)[0] ?? ''
        this.set({ trust_domain: d.trustDomain, state: d.state, last_error: code }, d.lastSuccessAt === undefined ? -1 : (clock.now() - d.lastSuccessAt) / 1000)
      }
    }
  })
  const requests = new Counter({
    ...instrumentOptions(METRICS.requests),
    registers,
    collect () { requestTally.flush() }
  })
  const requestProtocols = new Counter({
    ...instrumentOptions(METRICS.requestProtocols),
    registers,
    collect () { protocolTally.flush() }
  })
  const requestDuration = new Histogram({
    ...instrumentOptions(METRICS.requestDuration),
    registers
  })
  const endpointHealthy = new Gauge({
    ...instrumentOptions(METRICS.endpointHealthy),
    registers
  })
  const circuitBreakerTrips = new Counter({
    ...instrumentOptions(METRICS.circuitBreakerTrips),
    registers
  })
  const frontendLimitHits = new Counter({
    ...instrumentOptions(METRICS.frontendLimitHits),
    registers
  })
  const inboundHandshakes = new Counter({ ...instrumentOptions(METRICS.inboundHandshakes), registers })
  const inboundRequests = new Counter({ ...instrumentOptions(METRICS.inboundRequests), registers })

  // Per-request label lookups (prom-client hashes the label object on every inc/observe) were a
  // visible share of pooled CPU: the per-request counters count in tallies (counter-tally.ts),
  // and the histograms' children are bound once per label combination and kept. The
  // combinations are bounded by the config (services × endpoints × status codes, results ×
  // trust domains); nothing here removes or resets these series.
  const handshakeTally = counterTally((result, trustDomain, resumed) => backendHandshakes.labels(result, trustDomain, resumed))
  const handshakeDurations = boundChildren((k: string[]) => backendHandshakeDuration.labels(...k))
  const requestTally = counterTally((service, code, endpoint) => requests.labels(service, code, endpoint))
  const requestDurations = boundChildren((k: string[]) => requestDuration.labels(...k))
  const protocolTally = counterTally((service, protocol, backend) => requestProtocols.labels(service, protocol, backend))

  return {
    registry,
    circuitBreakerTrips,
    frontendLimitHits,
    backendHandshakes,
    backendHandshakeDuration,
    backendConnectionsWithdrawn,
    svidExpiry,
    svidNextRotation,
    credentialReloads,
    credentialSource,
    requests,
    requestDuration,
    endpointHealthy,
    observeHandshake (e) {
      const resumed = e.resumed ? 'true' : 'false'
      handshakeTally.add(e.result, e.trustDomain ?? '', resumed)
      handshakeDurations(resumed).observe(e.durationMs / 1000)
    },
    observeTrustWithdrawn (e) { backendConnectionsWithdrawn.inc({ code: e.code, reason: e.reason }) },
    observeCredentialReload (result) { credentialReloads.inc({ result }) },
    observeRequest (r) {
      requestTally.add(r.service, String(r.code), r.endpoint)
      requestDurations(r.service).observe(r.durationSeconds)
      if (r.protocol !== undefined) protocolTally.add(r.service, r.protocol, r.backendProtocol ?? '')
    },
    setEndpointHealthy (service, endpoint, healthy) { endpointHealthy.set({ service, endpoint }, healthy ? 1 : 0) },
    removeEndpoint (service, endpoint) { endpointHealthy.remove({ service, endpoint }) },
    observeCircuitBreaker (service, reason) { circuitBreakerTrips.inc({ service, reason }) },
    observeFrontendLimit (limit) { frontendLimitHits.inc({ limit }) },
    observeInboundHandshake (outcome, code, trustDomain) { inboundHandshakes.inc({ outcome, code, trust_domain: trustDomain }) },
    observeInboundRequest (trustDomain, code) { inboundRequests.inc({ trust_domain: trustDomain, code: String(code) }) },
    setIdentityProvider (provider) { identity = provider },
    setFederationProvider (provider) { federation = provider },
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
