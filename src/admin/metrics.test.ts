import t from 'tap'
import { register as defaultRegistry } from 'prom-client'
import { ManualClock } from '../internal/clock.ts'
import type { ProxyMetrics } from '../proxy/types.ts'
import type { HandshakeEvent } from '../tls/backend-connector.ts'
import type { TrustWithdrawnEvent } from '../tls/live-connections.ts'
import { METRICS, metricsMerged } from './metric-definitions.ts'
import { METRIC_NAMES, createMetrics, type HandshakeObservation } from './metrics.ts'

// Compile-time: the metrics object is what the proxy takes, and the TLS connector's
// handshake events can be passed straight to observeHandshake.
const asProxyMetrics: (m: ReturnType<typeof createMetrics>) => ProxyMetrics = (m) => m
const asObservation: (e: HandshakeEvent) => HandshakeObservation = (e) => e
const asWithdrawal: (e: TrustWithdrawnEvent) => Parameters<ReturnType<typeof createMetrics>['observeTrustWithdrawn']>[0] = (e) => e
void asProxyMetrics
void asObservation
void asWithdrawal

t.test('exposes every public metric name with its type, in its own registry', async (t) => {
  const m = createMetrics()
  const text = await m.text()
  const types: Record<string, string> = {
    spiffe_lb_backend_handshakes_total: 'counter',
    spiffe_lb_backend_handshake_duration_seconds: 'histogram',
    spiffe_lb_backend_connections_withdrawn_total: 'counter',
    spiffe_lb_svid_expiry_seconds: 'gauge',
    spiffe_lb_svid_next_rotation_seconds: 'gauge',
    spiffe_lb_credential_reloads_total: 'counter',
    spiffe_lb_requests_total: 'counter',
    spiffe_lb_request_protocols_total: 'counter',
    spiffe_lb_request_duration_seconds: 'histogram',
    spiffe_lb_endpoint_healthy: 'gauge',
    spiffe_lb_circuit_breaker_trips_total: 'counter',
    spiffe_lb_credential_source_info: 'gauge',
    spiffe_lb_federated_bundle_age_seconds: 'gauge',
    spiffe_lb_frontend_limit_hits_total: 'counter',
    spiffe_lb_inbound_handshakes_total: 'counter',
    spiffe_lb_inbound_requests_total: 'counter'
  }
  t.same(Object.values(METRIC_NAMES).sort(), Object.keys(types).sort())
  for (const [name, type] of Object.entries(types)) {
    t.match(text, new RegExp(`^# TYPE ${name} ${type}$`, 'm'), name)
    t.match(text, new RegExp(`^# HELP ${name} \\S`, 'm'), `${name} has help`)
  }
  t.notMatch(await defaultRegistry.metrics(), /spiffe_lb_/, 'the global registry is untouched')
  t.doesNotThrow(() => createMetrics(), 'a second instance does not clash')
})

t.test('records handshakes, reloads, requests and endpoint health with their labels', async (t) => {
  const m = createMetrics()
  m.observeHandshake({ result: 'ok', trustDomain: 'a.test', resumed: false, durationMs: 3 })
  m.observeHandshake({ result: 'ok', trustDomain: 'a.test', resumed: true, durationMs: 1 })
  m.observeHandshake({ result: 'ERR_SPIFFE_VERIFY_NO_BUNDLE', resumed: false, durationMs: 2 })
  m.observeCredentialReload('accepted')
  m.observeCredentialReload('rejected')
  m.observeCredentialReload('accepted')
  m.observeRequest({ service: 'web', endpoint: '127.0.0.1:9443', code: 200, durationSeconds: 0.02 })
  m.observeRequest({ service: 'web', endpoint: '127.0.0.1:9443', code: 200, durationSeconds: 0.03, protocol: 'HTTP/2.0', backendProtocol: 'HTTP/1.1' })
  m.observeRequest({ service: '', endpoint: '', code: 404, durationSeconds: 0.001 })
  m.setEndpointHealthy('web', '127.0.0.1:9443', true)
  m.setEndpointHealthy('web', '127.0.0.1:9444', false)
  const text = await m.text()
  const samples = [
    'spiffe_lb_request_protocols_total{service="web",protocol="HTTP/2.0",backend_protocol="HTTP/1.1"} 1',
    'spiffe_lb_backend_handshakes_total{result="ok",trust_domain="a.test",resumed="false"} 1',
    'spiffe_lb_backend_handshakes_total{result="ok",trust_domain="a.test",resumed="true"} 1',
    'spiffe_lb_backend_handshakes_total{result="ERR_SPIFFE_VERIFY_NO_BUNDLE",trust_domain="",resumed="false"} 1',
    'spiffe_lb_backend_handshake_duration_seconds_count{resumed="false"} 2',
    'spiffe_lb_backend_handshake_duration_seconds_bucket{le="0.0025",resumed="false"} 1',
    'spiffe_lb_credential_reloads_total{result="accepted"} 2',
    'spiffe_lb_credential_reloads_total{result="rejected"} 1',
    'spiffe_lb_requests_total{service="web",code="200",endpoint="127.0.0.1:9443"} 2',
    'spiffe_lb_requests_total{service="",code="404",endpoint=""} 1',
    'spiffe_lb_request_duration_seconds_count{service="web"} 2',
    'spiffe_lb_endpoint_healthy{service="web",endpoint="127.0.0.1:9443"} 1',
    'spiffe_lb_endpoint_healthy{service="web",endpoint="127.0.0.1:9444"} 0'
  ]
  for (const s of samples) t.ok(text.split('\n').includes(s), s)
  m.removeEndpoint('web', '127.0.0.1:9444')
  t.notMatch(await m.text(), /endpoint="127\.0\.0\.1:9444"\} 0/, 'a removed endpoint disappears')
})

t.test('SVID expiry and rotation gauges are computed at scrape time from the provider', async (t) => {
  const clock = new ManualClock(Date.UTC(2026, 0, 1))
  let notAfter = clock.now() + 3600_000
  const m = createMetrics({ clock, identity: () => ({ spiffeId: 'spiffe://a.test/lb', notBefore: 0, notAfter, nextRotationAt: notAfter - 1800_000 }) })
  let text = await m.text()
  t.ok(text.includes('spiffe_lb_svid_expiry_seconds{spiffe_id="spiffe://a.test/lb"} 3600'), 'expiry')
  t.ok(text.includes('spiffe_lb_svid_next_rotation_seconds{spiffe_id="spiffe://a.test/lb"} 1800'), 'rotation')
  clock.advance(600_000)
  text = await m.text()
  t.ok(text.includes('spiffe_lb_svid_expiry_seconds{spiffe_id="spiffe://a.test/lb"} 3000'), 'moves with the clock')
  notAfter = clock.now() - 5000
  text = await m.text()
  t.ok(text.includes('spiffe_lb_svid_expiry_seconds{spiffe_id="spiffe://a.test/lb"} -5'), 'negative once expired')
  m.setIdentityProvider(() => undefined)
  text = await m.text()
  t.notMatch(text, /^spiffe_lb_svid_(expiry|next_rotation)_seconds/m, 'no sample without an svid')
})

t.test('the credential source, its connection state and last error are one info series', async (t) => {
  let status: { source?: string, sourceState?: string, lastError?: string } = { source: 'workload-api', sourceState: 'retrying', lastError: 'ERR_SPIFFE_CREDENTIALS_WORKLOAD_API_UNAVAILABLE: the workload api is unavailable' }
  const m = createMetrics({ identity: () => ({ spiffeId: 'spiffe://a.test/lb', notBefore: 0, notAfter: 1, ...status }) })
  t.ok((await m.text()).includes('spiffe_lb_credential_source_info{spiffe_id="spiffe://a.test/lb",source="workload-api",state="retrying",last_error="ERR_SPIFFE_CREDENTIALS_WORKLOAD_API_UNAVAILABLE"} 1'))
  status = { source: 'workload-api', sourceState: 'streaming' }
  const text = await m.text()
  t.ok(text.includes('spiffe_lb_credential_source_info{spiffe_id="spiffe://a.test/lb",source="workload-api",state="streaming",last_error=""} 1'), 'the old series is gone')
  t.notMatch(text, /state="retrying"/)
})

t.test('each federated domain is one age series with its state and last error code', async (t) => {
  const clock = new ManualClock(100_000)
  const m = createMetrics({ clock })
  t.notMatch(await m.text(), /^spiffe_lb_federated_bundle_age_seconds\{/m, 'no series without a provider')
  m.setFederationProvider(() => [
    { trustDomain: 'a.test', endpoint: 'https://a/', profile: 'https_web', state: 'stale', refreshHintMs: 1000, lastSuccessAt: 40_000, lastError: 'ERR_SPIFFE_CREDENTIALS_BUNDLE_ENDPOINT_UNREACHABLE: connection refused' },
    { trustDomain: 'b.test', endpoint: 'https://b/', profile: 'https_spiffe', state: 'pending', refreshHintMs: 1000 }
  ])
  const text = await m.text()
  t.ok(text.includes('spiffe_lb_federated_bundle_age_seconds{trust_domain="a.test",state="stale",last_error="ERR_SPIFFE_CREDENTIALS_BUNDLE_ENDPOINT_UNREACHABLE"} 60'), text)
  t.ok(text.includes('spiffe_lb_federated_bundle_age_seconds{trust_domain="b.test",state="pending",last_error=""} -1'), 'never fetched: -1')
})

t.test('counts backend connections ended by a trust withdrawal by code and rule', async (t) => {
  const m = createMetrics()
  m.observeTrustWithdrawn({ code: 'ERR_SPIFFE_TLS_PEER_UNTRUSTED', reason: 'ERR_SPIFFE_VERIFY_REVOKED' })
  m.observeTrustWithdrawn({ code: 'ERR_SPIFFE_TLS_PEER_UNTRUSTED', reason: 'ERR_SPIFFE_VERIFY_REVOKED' })
  m.observeTrustWithdrawn({ code: 'ERR_SPIFFE_TLS_SVID_UNUSABLE', reason: 'ERR_SPIFFE_TLS_SVID_UNUSABLE' })
  const text = await m.text()
  t.match(text, /spiffe_lb_backend_connections_withdrawn_total\{code="ERR_SPIFFE_TLS_PEER_UNTRUSTED",reason="ERR_SPIFFE_VERIFY_REVOKED"\} 2/)
  t.match(text, /spiffe_lb_backend_connections_withdrawn_total\{code="ERR_SPIFFE_TLS_SVID_UNUSABLE",reason="ERR_SPIFFE_TLS_SVID_UNUSABLE"\} 1/)
})

t.test('each metric is defined once: instruments, label types, buckets and cluster merge all come from METRICS', async (t) => {
  for (const d of Object.values(METRICS) as Array<{ type: string, buckets?: readonly number[] }>) {
    if (d.type === 'histogram') t.ok((d.buckets ?? []).length > 0, 'a histogram names its buckets')
  }
  t.same(metricsMerged('primary').sort(), [METRIC_NAMES.credentialReloads, METRIC_NAMES.federatedBundleAge, METRIC_NAMES.svidExpiry, METRIC_NAMES.svidNextRotation].sort())
  t.same(metricsMerged('min'), [METRIC_NAMES.endpointHealthy])
  const m = createMetrics()
  m.observeRequest({ service: 'web', endpoint: '127.0.0.1:1', code: 200, durationSeconds: 0.002 })
  const top = METRICS.requestDuration.buckets.at(-1)
  t.match(await m.text(), new RegExp(`^${METRIC_NAMES.requestDuration}_bucket\\{le="${top}",service="web"\\} 1$`, 'm'), 'the buckets of the definition')
})
