import t from 'tap'
import { FEDERATION_MAX_REFRESH_MS, FEDERATION_MIN_REFRESH_MS, FEDERATION_REFRESH_MS } from '../defaults.ts'
import { ManualClock } from '../internal/clock.ts'
import { SpiffeId } from '../spiffe/spiffe-id.ts'
import { TrustDomain } from '../spiffe/trust-domain.ts'
import type { X509Bundle } from '../spiffe/x509-bundle.ts'
import { domain } from '../spiffe/testing/spiffe-fixtures.ts'
import type { BundleEndpointTarget } from './bundle-endpoint-client.ts'
import { BundleEndpointPoller, refreshIntervalMs } from './bundle-endpoint-poller.ts'
import { credentialsError } from './errors.ts'

const PARTNER = TrustDomain.fromString('partner.example')
const URL_ = 'https://127.0.0.1:8443/bundle'
const web: BundleEndpointTarget = { trustDomain: PARTNER, url: URL_, profile: 'https_web' }
const tick = async (): Promise<void> => { await new Promise((resolve) => setImmediate(resolve)) }

/** A poller over a scripted endpoint: `answer` is what the next fetch returns or throws. */
function world (target: BundleEndpointTarget = web, extra: { bootstrapBundle?: X509Bundle } = {}) {
  const clock = new ManualClock(0)
  const changes: Array<X509Bundle | undefined> = []
  const asked: Array<X509Bundle | undefined> = []
  const state: { answer: () => unknown } = { answer: () => { throw new Error('no answer yet') } }
  const poller = new BundleEndpointPoller({
    target,
    fetch: async (endpointBundle) => { asked.push(endpointBundle); return state.answer() },
    maxBundleAgeMs: 3_600_000,
    onChange: (b) => { changes.push(b) },
    clock,
    random: () => 0.5,
    ...extra
  })
  return { clock, changes, asked, state, poller }
}

t.test('refresh hints are clamped; no hint means the default', async (t) => {
  t.equal(refreshIntervalMs(undefined), FEDERATION_REFRESH_MS)
  t.equal(refreshIntervalMs(0), FEDERATION_MIN_REFRESH_MS)
  t.equal(refreshIntervalMs(10 ** 9), FEDERATION_MAX_REFRESH_MS)
  t.equal(refreshIntervalMs(42), 42_000)
})

t.test('polls at the refresh hint, reports a new bundle once, ignores an unchanged one', async (t) => {
  const a = await domain('partner.example')
  const b = await domain('partner.example', { rootSubject: 'CN=partner rotated' })
  const w = world()
  w.state.answer = () => ({ ...a.bundle.toJwks(1), spiffe_refresh_hint: 60 })
  await w.poller.start()
  t.equal(w.changes.length, 1)
  t.ok(w.poller.bundle?.equals(a.bundle))
  t.match(w.poller.status(), { state: 'fresh', sequence: 1, refreshHintMs: 60_000, nextFetchAt: 60_000, lastSuccessAt: 0 })
  w.state.answer = () => ({ ...a.bundle.toJwks(1), spiffe_refresh_hint: 60 })
  w.clock.advance(60_000)
  await tick()
  t.equal(w.changes.length, 1, 'same anchors: no change reported')
  w.state.answer = () => ({ ...b.bundle.toJwks(2), spiffe_refresh_hint: 30 })
  w.clock.advance(59_999)
  await tick()
  t.equal(w.changes.length, 1, 'not before the hint')
  w.clock.advance(1)
  await tick()
  t.equal(w.changes.length, 2)
  t.ok(w.changes[1]?.equals(b.bundle), 'the rotated bundle is reported')
  t.match(w.poller.status(), { sequence: 2, refreshHintMs: 30_000 })
  w.poller.stop()
  t.equal(w.clock.pending, 0, 'stop leaves no timer')
})

t.test('a sequence going backwards is refused and the last good bundle stays', async (t) => {
  const a = await domain('partner.example')
  const old = await domain('partner.example', { rootSubject: 'CN=partner old' })
  const w = world()
  w.state.answer = () => a.bundle.toJwks(5)
  await w.poller.start()
  w.state.answer = () => old.bundle.toJwks(4)
  await w.poller.refresh()
  t.ok(w.poller.bundle?.equals(a.bundle))
  t.equal(w.changes.length, 1)
  t.match(w.poller.status(), { state: 'stale', sequence: 5, lastError: { code: 'ERR_SPIFFE_CREDENTIALS_BUNDLE_SEQUENCE_BACKWARDS' } })
  t.match(w.poller.status().lastError?.message, /spiffe_sequence 4, lower than the 5/)
  w.state.answer = () => old.bundle.toJwks(5)
  await w.poller.refresh()
  t.ok(w.poller.bundle?.equals(old.bundle), 'an equal sequence is accepted')
  t.equal(w.poller.status().state, 'fresh')
  w.poller.stop()
})

t.test('failures keep the last good bundle, retry with back-off, and withdraw it after the max age', async (t) => {
  const a = await domain('partner.example')
  const w = world()
  w.state.answer = () => ({ ...a.bundle.toJwks(1), spiffe_refresh_hint: 600 })
  await w.poller.start()
  w.state.answer = () => { throw credentialsError('ERR_SPIFFE_CREDENTIALS_BUNDLE_ENDPOINT_UNREACHABLE', 'connection refused') }
  w.clock.advance(600_000)
  await tick()
  t.ok(w.poller.bundle?.equals(a.bundle), 'kept after a failed fetch')
  t.match(w.poller.status(), { state: 'stale', lastFetchAt: 600_000, lastSuccessAt: 0, lastError: { code: 'ERR_SPIFFE_CREDENTIALS_BUNDLE_ENDPOINT_UNREACHABLE' } })
  const next = w.poller.status().nextFetchAt ?? 0
  t.ok(next - 600_000 <= 1000, 'the first retry comes after the back-off, not the refresh hint')
  for (let i = 0; i < 200 && w.clock.now() < 3_600_000 - 1; i++) {
    w.clock.advance(Math.min(Math.max(1, (w.poller.status().nextFetchAt ?? 0) - w.clock.now()), 3_600_000 - 1 - w.clock.now()))
    await tick()
  }
  t.ok(w.poller.bundle !== undefined, 'still trusted just before the max age')
  w.clock.advance(1)
  await tick()
  t.equal(w.poller.bundle, undefined, 'withdrawn at the max age')
  t.equal(w.changes.at(-1), undefined)
  t.match(w.poller.status(), { state: 'withdrawn', lastError: { code: 'ERR_SPIFFE_CREDENTIALS_BUNDLE_WITHDRAWN' } })
  t.match(w.poller.status().lastError?.message, /last error ERR_SPIFFE_CREDENTIALS_BUNDLE_ENDPOINT_UNREACHABLE/)
  w.clock.advance((w.poller.status().nextFetchAt ?? 0) - w.clock.now())
  await tick()
  t.match(w.poller.status(), { state: 'withdrawn', lastError: { code: 'ERR_SPIFFE_CREDENTIALS_BUNDLE_WITHDRAWN' } }, 'a later failed fetch keeps saying withdrawn')
  w.state.answer = () => a.bundle.toJwks(1)
  await w.poller.refresh()
  t.ok(w.poller.bundle?.equals(a.bundle), 'a good fetch trusts the domain again')
  t.equal(w.poller.status().state, 'fresh')
  w.poller.stop()
})

t.test('a malformed document is refused like an unreachable endpoint', async (t) => {
  const w = world()
  w.state.answer = () => ({ keys: 'nope' })
  await w.poller.start()
  t.equal(w.poller.bundle, undefined)
  t.match(w.poller.status(), { state: 'pending', lastError: { code: 'ERR_SPIFFE_BUNDLE_JWKS_MALFORMED' } })
  w.poller.stop()
})

t.test('https_spiffe: bootstrap first, then the fetched bundle of the same domain; another domain keeps the bootstrap', async (t) => {
  const a = await domain('partner.example')
  const b = await domain('partner.example', { rootSubject: 'CN=partner b' })
  const same = world({ ...web, profile: 'https_spiffe', endpointSpiffeId: SpiffeId.fromString('spiffe://partner.example/bundle-endpoint') }, { bootstrapBundle: a.bundle })
  same.state.answer = () => b.bundle.toJwks(1)
  await same.poller.start()
  await same.poller.refresh()
  t.ok(same.asked[0]?.equals(a.bundle), 'first fetch authenticated with the bootstrap bundle')
  t.ok(same.asked[1]?.equals(b.bundle), 'then with the fetched bundle')
  same.poller.stop()
  const hub = await domain('hub.example')
  const other = world({ ...web, profile: 'https_spiffe', endpointSpiffeId: SpiffeId.fromString('spiffe://hub.example/bundles') }, { bootstrapBundle: hub.bundle })
  other.state.answer = () => b.bundle.toJwks(1)
  await other.poller.start()
  await other.poller.refresh()
  t.ok(other.asked.every((x) => x?.equals(hub.bundle)), 'an endpoint of another domain is always checked with that domain\'s bundle')
  other.poller.stop()
})
