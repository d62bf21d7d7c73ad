import t from 'tap'
import { ManualClock } from '../internal/clock.ts'
import { BundleSet } from '../spiffe/bundle-set.ts'
import { TrustDomain } from '../spiffe/trust-domain.ts'
import { X509Bundle } from '../spiffe/x509-bundle.ts'
import { X509Svid } from '../spiffe/x509-svid.ts'
import { mergeTrustBundles } from './merge-bundles.ts'
import { CredentialStore } from './store.ts'
import { IDENTITY, OWN_TD, fixtures, svidPem, type Material } from './testing/credential-fixtures.ts'

const own = TrustDomain.fromString(OWN_TD)
const candidate = (m: Material) => ({
  svid: X509Svid.fromPem(m.chainPem, m.keyPem),
  bundles: BundleSet.of(m.bundles.map(([td, pem]) => X509Bundle.fromPem(TrustDomain.fromString(td), pem)))
})

t.test('generations: svid and bundles counted apart, unchanged offers publish nothing', async (t) => {
  const fx = await fixtures()
  const store = new CredentialStore({ identity: IDENTITY })
  const seen: number[] = []
  store.subscribe((s) => { seen.push(s.generation) })
  t.equal(store.offer('test', candidate(fx.good[0])).result, 'accepted')
  t.equal(store.offer('test', candidate(fx.good[0])).result, 'unchanged', 'same material re-read')
  t.equal(store.offer('test', candidate(fx.withPeer)).result, 'accepted')
  const s = store.current()
  t.same([s?.generation, s?.svidGeneration, s?.bundleGeneration], [2, 2, 2])
  t.equal(store.offer('test', candidate({ ...fx.withPeer, bundles: [...fx.withPeer.bundles].reverse() })).result, 'unchanged',
    'bundle order does not matter')
  t.same(seen, [1, 2])
  t.same(store.counters(), { accepted: 2, unchanged: 2, rejected: 0 })
})

t.test('a rejected offer keeps the last good snapshot and records the error', async (t) => {
  const fx = await fixtures()
  const clock = new ManualClock(Date.now())
  const store = new CredentialStore({ identity: IDENTITY, clock })
  store.offer('a', candidate(fx.good[0]))
  const good = store.current()
  const wrong = await svidPem(fx.intermediate, `spiffe://${OWN_TD}/ns/other/sa/frontend`)
  const o = store.offer('b', candidate({ ...fx.good[1], ...wrong }))
  t.equal(o.result, 'rejected')
  t.equal(store.current(), good)
  t.match(store.lastError, { code: 'ERR_SPIFFE_CREDENTIALS_WRONG_IDENTITY', source: 'b', at: clock.now() })
  store.fail('c', new Error('boom'))
  t.match(store.lastError, { code: 'ERR_SPIFFE_CREDENTIALS_SOURCE_FAILED', message: 'boom' })
  t.equal(store.errorCounts().get('ERR_SPIFFE_CREDENTIALS_WRONG_IDENTITY'), 1)
  t.match(store.status(), { ready: true, lastError: { code: 'ERR_SPIFFE_CREDENTIALS_SOURCE_FAILED' } })
})

t.test('a chain from another trust domain\'s CA is refused', async (t) => {
  const fx = await fixtures()
  const store = new CredentialStore({ identity: IDENTITY })
  // Signed by the peer CA, while the own domain's bundle is the real root: must not verify,
  // even though the peer CA is trusted for peer.test.
  const forged = await svidPem(fx.peerRoot, IDENTITY.toString())
  const o = store.offer('x', candidate({ ...fx.withPeer, ...forged }))
  t.equal(o.result, 'rejected')
  t.match(o.error?.code, /^ERR_SPIFFE_/)
  t.equal(store.current(), undefined)
})

t.test('status and usable() follow the validity period', async (t) => {
  const fx = await fixtures()
  const clock = new ManualClock(Date.now())
  const store = new CredentialStore({ identity: IDENTITY, clock })
  t.match(store.status(), { ready: false, reason: 'pending' })
  t.notOk(store.usable())
  t.throws(() => store.getX509Svid(), { code: 'ERR_SPIFFE_CREDENTIALS_NOT_READY' })
  store.offer('a', candidate(fx.good[0]))
  const s = store.current()
  t.ok(store.usable())
  t.equal(store.getX509Svid(), s?.svid)
  t.equal(store.getBundleForTrustDomain(own), s?.bundles.get(own))
  clock.set((s?.svid.notAfter ?? 0) + 1)
  t.notOk(store.usable())
  t.match(store.status(), { ready: false, reason: 'expired' })
  t.equal(store.current(), s, 'current() still returns it')
  t.ok(store.usable((s?.svid.notAfter ?? 0) - 1), 'usable(now) takes an explicit time')
})

t.test('additionalTrustBundles: own-domain anchors are added; a domain from both: same anchors merged, other anchors the source wins', async (t) => {
  const fx = await fixtures()
  const delivered = BundleSet.of([X509Bundle.fromPem(own, fx.root.rootPem)])
  const extraOwn = BundleSet.of([X509Bundle.fromPem(own, fx.peerRoot.rootPem)])
  const merged = mergeTrustBundles(delivered, extraOwn, own)
  t.equal(merged.bundles.size, 1)
  t.equal(merged.bundles.get(own)?.authorities.length, 2)
  const merged2 = mergeTrustBundles(delivered, fx.additional, own)
  t.same(merged2.bundles.trustDomains().map((d) => d.name).sort(), [OWN_TD, 'other.test'].sort())
  const other = TrustDomain.fromString('other.test')
  const same = mergeTrustBundles(BundleSet.of([...delivered, X509Bundle.fromPem(other, fx.otherRoot.rootPem)]), fx.additional, own)
  t.same([same.bundles.get(other)?.authorities.length, same.warnings], [1, []], 'identical anchors: one bundle, no word')
  const clash = BundleSet.of([...delivered, X509Bundle.fromPem(other, fx.root.rootPem)])
  const won = mergeTrustBundles(clash, fx.additional, own)
  t.same(won.bundles.get(other)?.fingerprints(), clash.get(other)?.fingerprints(), 'the delivered anchors are in force')
  t.same(won.warnings.map((w) => [w.code, w.message]), [['ERR_SPIFFE_CREDENTIALS_TRUST_DOMAIN_OVERRIDDEN',
    'trust domain "other.test" is delivered by the credential source with other anchors than the config gives; the delivered bundle is used and the configured one ignored']])
  const store = new CredentialStore({ identity: IDENTITY, additionalTrustBundles: fx.additional })
  const svid = X509Svid.fromPem(fx.good[0].chainPem, fx.good[0].keyPem, 'good')
  const outcome = store.offer('test', { svid, bundles: clash })
  t.equal(outcome.result, 'accepted', 'the credentials are put in force')
  t.same(outcome.warnings?.map((w) => w.code), ['ERR_SPIFFE_CREDENTIALS_TRUST_DOMAIN_OVERRIDDEN'])
})

t.test('a throwing subscriber does not stop publication', async (t) => {
  const fx = await fixtures()
  const store = new CredentialStore({ identity: IDENTITY })
  let second = 0
  const warnings: string[] = []
  const onWarning = (w: Error): void => { warnings.push(w.message) }
  process.on('warning', onWarning)
  t.teardown(() => { process.off('warning', onWarning) })
  store.subscribe(() => { throw new Error('subscriber bug') })
  store.subscribe(() => { second++ })
  t.equal(store.offer('a', candidate(fx.good[0])).result, 'accepted')
  t.equal(second, 1)
  await new Promise((resolve) => setImmediate(resolve))
  t.match(warnings, [/subscriber threw/])
})

t.test('setAdditionalTrustBundles re-publishes the delivered credentials with the new trust', async (t) => {
  const fx = await fixtures()
  const store = new CredentialStore({ identity: IDENTITY, additionalTrustBundles: fx.additional })
  t.equal(store.setAdditionalTrustBundles(BundleSet.empty()), undefined, 'nothing delivered yet: nothing to publish')
  store.setAdditionalTrustBundles(fx.additional)
  store.offer('directory', candidate(fx.good[0]))
  const first = store.current()
  const other = fx.additional.trustDomains()[0]
  t.ok(other !== undefined && first?.bundles.has(other), 'additional domain trusted')

  const removed = store.setAdditionalTrustBundles(BundleSet.empty())
  t.equal(removed?.result, 'accepted')
  const second = store.current()
  t.equal(second?.svidGeneration, first?.svidGeneration, 'same SVID')
  t.equal(second?.bundleGeneration, (first?.bundleGeneration ?? 0) + 1, 'trust changed')
  t.equal(second?.source, 'directory')
  t.notOk(other !== undefined && second?.bundles.has(other), 'removed domain no longer trusted')

  // Own-domain anchors from the config add to the delivered own bundle, never replace it.
  const own2 = BundleSet.of([X509Bundle.fromPem(own, fx.peerRoot.rootPem)])
  t.equal(store.setAdditionalTrustBundles(own2)?.result, 'accepted')
  const ownBundle = store.current()?.bundles.get(own)
  t.equal(ownBundle?.authorities.length, (first?.bundles.get(own)?.authorities.length ?? 0) + 1, 'extra own-domain anchor added')
  t.equal(store.setAdditionalTrustBundles(own2)?.result, 'unchanged', 'the same set again changes nothing')
})
