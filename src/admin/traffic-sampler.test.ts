import t from 'tap'
import { ManualClock } from '../internal/clock.ts'
import { TrafficSampler, quantileMs, type TrafficSample } from './traffic-sampler.ts'

/** The exposition after `ok` proxied 200s on a, `bad` 502s on b, and handshakes. */
function text (ok: number, bad: number, full: number, resumed: number, rejected: number): string {
  return [
    `spiffe_lb_requests_total{service="web",code="200",endpoint="127.0.0.1:1"} ${ok}`,
    `spiffe_lb_requests_total{service="web",code="502",endpoint="127.0.0.1:2"} ${bad}`,
    `spiffe_lb_request_duration_seconds_bucket{le="0.01",service="web"} ${ok}`,
    `spiffe_lb_request_duration_seconds_bucket{le="0.1",service="web"} ${ok + bad}`,
    `spiffe_lb_request_duration_seconds_bucket{le="+Inf",service="web"} ${ok + bad}`,
    `spiffe_lb_backend_handshakes_total{result="ok",trust_domain="a",resumed="false"} ${full}`,
    `spiffe_lb_backend_handshakes_total{result="ok",trust_domain="a",resumed="true"} ${resumed}`,
    `spiffe_lb_backend_handshakes_total{result="ERR_SPIFFE_VERIFY_NO_BUNDLE",trust_domain="x",resumed="false"} ${rejected}`,
    'spiffe_lb_circuit_breaker_trips_total{service="web",reason="maxRequests"} 0'
  ].join('\n')
}

t.test('turns counter growth into per-second rates and latency quantiles', async (t) => {
  const clock = new ManualClock()
  const answers = [text(0, 0, 0, 0, 0), text(18, 2, 4, 6, 2), text(18, 2, 4, 6, 2)]
  const sampler = new TrafficSampler(async () => answers.shift() ?? '', { clock, intervalMs: 2000, windowMs: 4000 })
  const seen: TrafficSample[] = []
  sampler.onSample((s) => { seen.push(s) })
  sampler.start()
  await new Promise((resolve) => setImmediate(resolve))
  t.same(seen, [], 'the first read is only the baseline')
  clock.advance(2000)
  await new Promise((resolve) => setImmediate(resolve))
  t.equal(seen.length, 1)
  t.match(seen[0], {
    point: { rps: 10, handshakesFull: 2, handshakesResumed: 3, errors: { 502: 1, ERR_SPIFFE_VERIFY_NO_BUNDLE: 1 } },
    backends: [{ service: 'web', endpoint: '127.0.0.1:1', rps: 9, errorsPerSecond: 0 }, { service: 'web', endpoint: '127.0.0.1:2', rps: 1, errorsPerSecond: 1 }],
    breakerTrips: { web: 0 }
  })
  t.ok((seen[0]?.point.p50 ?? 0) > 0 && (seen[0]?.point.p50 ?? 0) <= 10, 'p50 inside the first bucket')
  t.ok((seen[0]?.point.p99 ?? 0) > 10 && (seen[0]?.point.p99 ?? 0) <= 100, 'p99 inside the second bucket')
  clock.advance(2000)
  await new Promise((resolve) => setImmediate(resolve))
  t.match(seen[1]?.point, { rps: 0, p50: null, p99: null, errors: {} }, 'no growth: zero rates, no latency')
  clock.advance(2000)
  await new Promise((resolve) => setImmediate(resolve))
  t.equal(sampler.history().length, 2, 'keeps only the window')
  sampler.stop()
})

t.test('quantiles interpolate inside their bucket, as histogram_quantile does', async (t) => {
  t.equal(quantileMs([[0.1, 0], [0.2, 10], [Infinity, 10]], 0.5), 150)
  t.equal(quantileMs([[0.1, 0], [Infinity, 0]], 0.5), null)
  t.equal(quantileMs([[0.1, 0], [Infinity, 4]], 0.99), 100, 'past the last bound: the last bound')
})

t.test('stops and forgets its points a window after the last page went away', async (t) => {
  const clock = new ManualClock()
  let reads = 0
  const sampler = new TrafficSampler(async () => { reads++; return text(reads, 0, 0, 0, 0) }, { clock, intervalMs: 1000, windowMs: 3000 })
  const tick = async (): Promise<void> => { clock.advance(1000); await new Promise((resolve) => setImmediate(resolve)) }
  sampler.start()
  const off = sampler.onSample(() => {})
  for (let i = 0; i < 5; i++) await tick()
  t.equal(sampler.history().length, 3, 'a listening page keeps it sampling')
  off()
  for (let i = 0; i < 5; i++) await tick()
  t.same(sampler.history(), [], 'nobody listened for a window: stopped, points dropped')
  const before = reads
  for (let i = 0; i < 3; i++) await tick()
  t.equal(reads, before, 'no more reads')
  sampler.start()
  await new Promise((resolve) => setImmediate(resolve))
  t.equal(reads, before + 1, 'a new page starts it again')
  sampler.stop()
})
