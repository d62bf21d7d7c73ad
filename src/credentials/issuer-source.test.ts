import t from 'tap'
import { ManualClock } from '../internal/clock.ts'
import { configError } from '../config/errors.ts'
import { createRootCa } from '../pki/index.ts'
import { BundleSet } from '../spiffe/bundle-set.ts'
import { TrustDomain } from '../spiffe/trust-domain.ts'
import { X509Bundle } from '../spiffe/x509-bundle.ts'
import { createIssuerSource, rotationTime } from './issuer-source.ts'
import { runSourceSuite } from './source-suite.ts'
import { CredentialStore } from './store.ts'
import { IDENTITY, fixtures, type Material } from './testing/credential-fixtures.ts'

const HOUR = 3_600_000
const DAY = 24 * HOUR

// The suite drives the issuer through its test hooks: `issue` hands out the suite's material
// (good or deliberately broken) and `trustBundles` renders its bundle list.
runSourceSuite('issuer', async (env) => {
  const fx = await fixtures()
  let current: Material = env.first
  const source = createIssuerSource({
    ca: fx.intermediate,
    attest: () => {},
    lifetimeMs: HOUR,
    rotationWindowPercentage: 50,
    keyAlgorithm: 'ECDSA_P256',
    clock: env.clock,
    issue: async () => ({ chainPem: current.chainPem, keyPem: current.keyPem }),
    trustBundles: () => BundleSet.of(current.bundles.map(([td, pem]) => X509Bundle.fromPem(TrustDomain.fromString(td), pem)))
  })
  return {
    source,
    publish: async (m) => { current = m; await source.refresh() },
    close: async () => {}
  }
})

const flush = (): Promise<void> => new Promise((resolve) => { setImmediate(resolve) })

async function setup (opts: { window: number, random?: () => number, lifetimeMs?: number }) {
  const clock = new ManualClock()
  const ca = await createRootCa({ subject: 'CN=Issuer Test Root', notBefore: clock.now() - HOUR })
  let attests = 0
  let refuse = false
  const source = createIssuerSource({
    ca,
    attest: () => {
      attests++
      if (refuse) throw configError('ERR_SPIFFE_CONFIG_ATTESTATION_DENIED', 'refused by the test')
    },
    lifetimeMs: opts.lifetimeMs ?? DAY,
    rotationWindowPercentage: opts.window,
    keyAlgorithm: 'ECDSA_P256',
    clock,
    random: opts.random ?? (() => 0)
  })
  const store = new CredentialStore({ identity: IDENTITY, clock })
  const settled = (): Promise<void> => new Promise((resolve) => { const off = store.onAttempt(() => { off(); resolve() }) })
  return { clock, ca, source, store, settled, attests: () => attests, refuse: (v: boolean) => { refuse = v } }
}

for (const window of [50, 80]) {
  t.test(`re-issues when ${window} % of the lifetime has passed`, async (t) => {
    const { clock, source, store, settled, attests } = await setup({ window })
    const start = clock.now()
    await source.start(store)
    const first = store.current()
    t.equal(first?.svidGeneration, 1)
    t.equal(first?.svid.notBefore, start, 'issued at the clock time')
    t.equal(first?.svid.notAfter, start + DAY - 1000, 'with the CIC lifetime')
    const due = start + DAY * window / 100
    t.equal(source.rotateAt, due)
    t.equal(store.nextRefreshAt, due)

    clock.advance(due - start - 1)
    t.equal(attests(), 1, 'nothing re-issued 1 ms before the window')
    const next = settled()
    clock.advance(1)
    t.equal(attests(), 2, 're-issuance starts at the window')
    await next
    await flush() // the source plans the next rotation right after the store published
    const second = store.current()
    t.equal(second?.svidGeneration, 2)
    t.equal(second?.bundleGeneration, 1, 'same CA: bundles unchanged')
    t.equal(second?.svid.notBefore, due)
    t.not(second?.svid.leaf.serialNumber, first?.svid.leaf.serialNumber)
    t.equal(source.rotateAt, due + DAY * window / 100, 'next rotation planned from the new issuance')
    await source.stop()
    t.equal(clock.pending, 0, 'stop clears the rotation timer')
  })
}

t.test('rotation jitter is small, after the window and before expiry', async (t) => {
  const base = { lifetimeMs: DAY, rotationWindowPercentage: 50, jitterFraction: 0.02 }
  t.equal(rotationTime(0, DAY, { ...base, random: () => 0 }), DAY / 2)
  t.equal(rotationTime(0, DAY, { ...base, random: () => 0.5 }), DAY / 2 + 0.01 * DAY)
  t.ok(rotationTime(0, DAY, { ...base, random: () => 0.999 }) < DAY / 2 + 0.02 * DAY)
  t.equal(rotationTime(0, DAY / 4, { ...base, random: () => 0.5 }), DAY / 4, 'never after notAfter')
  const { clock, source, store } = await setup({ window: 80, random: () => 0.5 })
  await source.start(store)
  t.equal(source.rotateAt, clock.now() + DAY * 0.8 + DAY * 0.01)
  await source.stop()
})

t.test('attestation refusal: not ready, retried with back-off, then issued', async (t) => {
  const { clock, source, store, settled, attests, refuse } = await setup({ window: 50 })
  refuse(true)
  await source.start(store)
  t.equal(store.current(), undefined)
  t.match(store.status(), { ready: false, reason: 'pending' })
  t.equal(store.lastError?.code, 'ERR_SPIFFE_CONFIG_ATTESTATION_DENIED')
  const retryAt = store.nextRefreshAt ?? 0
  t.ok(retryAt > clock.now() && retryAt <= clock.now() + DAY / 10, 'retry planned within the back-off cap')
  refuse(false)
  const next = settled()
  clock.advance(retryAt - clock.now())
  t.equal(attests(), 2)
  await next
  t.equal(store.current()?.generation, 1)
  t.ok(store.status().ready)
  await source.stop()
})

t.test('an expired svid is never usable, though current() still returns it', async (t) => {
  const { clock, source, store, refuse } = await setup({ window: 50, lifetimeMs: HOUR })
  await source.start(store)
  const first = store.current()
  refuse(true) // every re-issuance from now on is refused
  clock.advance(HOUR + 1000)
  await new Promise((resolve) => setImmediate(resolve))
  t.equal(store.current(), first, 'the last snapshot is kept')
  t.notOk(store.usable(), 'usable() is false: fail closed')
  t.match(store.status(), { ready: false, reason: 'expired' })
  t.throws(() => store.getX509Svid(), { code: 'ERR_SPIFFE_CREDENTIALS_NOT_READY' })
  t.ok((store.errorCounts().get('ERR_SPIFFE_CONFIG_ATTESTATION_DENIED') ?? 0) >= 1)
  await source.stop()
})
