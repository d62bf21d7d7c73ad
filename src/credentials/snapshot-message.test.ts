import t from 'tap'
import { BundleSet } from '../spiffe/bundle-set.ts'
import { TrustDomain } from '../spiffe/trust-domain.ts'
import { X509Bundle } from '../spiffe/x509-bundle.ts'
import { X509Svid } from '../spiffe/x509-svid.ts'
import { SnapshotReplica, snapshotFromMessage, snapshotToMessage, type SnapshotMessage } from './snapshot-message.ts'
import { CredentialStore } from './store.ts'
import { IDENTITY, fixtures, type Material } from './testing/credential-fixtures.ts'

const candidate = (m: Material) => ({
  svid: X509Svid.fromPem(m.chainPem, m.keyPem),
  bundles: BundleSet.of(m.bundles.map(([td, pem]) => X509Bundle.fromPem(TrustDomain.fromString(td), pem)))
})

/** Returns the messages a store publishes for good[0], withPeer (trust change), good[2] (svid change). */
async function published (): Promise<SnapshotMessage[]> {
  const fx = await fixtures()
  const store = new CredentialStore({ identity: IDENTITY, additionalTrustBundles: fx.additional })
  const out: SnapshotMessage[] = []
  store.subscribe((s) => { out.push(JSON.parse(JSON.stringify(snapshotToMessage(IDENTITY.toString(), s))) as SnapshotMessage) })
  for (const m of [fx.good[0], fx.withPeer, fx.good[2]]) store.offer('test', candidate(m))
  return out
}

t.test('a snapshot survives JSON with its svid, bundles per trust domain and generations', async (t) => {
  const fx = await fixtures()
  const messages = await published()
  t.same(messages.map((m) => [m.generation, m.svidGeneration, m.bundleGeneration]), [[1, 1, 1], [2, 2, 2], [3, 3, 3]])
  const store = new CredentialStore({ identity: IDENTITY, additionalTrustBundles: fx.additional })
  store.offer('test', candidate(fx.withPeer))
  const original = store.current()
  const second = messages[1]
  if (original === undefined || second === undefined) throw new Error('no snapshot')
  const copy = snapshotFromMessage(second)
  t.equal(copy.svid.id.toString(), IDENTITY.toString())
  t.same(copy.svid.chain.map((c) => c.fingerprint256), original.svid.chain.map((c) => c.fingerprint256), 'same chain')
  t.equal(copy.svid.privateKeyPem(), original.svid.privateKeyPem(), 'same key')
  t.same(copy.bundles.trustDomains().map((td) => td.name), ['demo-pool.global.123456789012.workload.id.goog', 'other.test', 'peer.test'])
  for (const td of copy.bundles.trustDomains()) {
    t.same(copy.bundles.get(td)?.fingerprints(), original.bundles.get(td)?.fingerprints(), `anchors of ${td.name}`)
  }
})

t.test('damaged messages are refused with a coded error', async (t) => {
  const [first] = await published()
  if (first === undefined) throw new Error('no snapshot')
  const cases: Array<{ name: string, message: SnapshotMessage, code: RegExp }> = [
    { name: 'generation 0', message: { ...first, generation: 0 }, code: /^ERR_SPIFFE_CREDENTIALS_BAD_SNAPSHOT_MESSAGE$/ },
    { name: 'fractional svidGeneration', message: { ...first, svidGeneration: 1.5 }, code: /^ERR_SPIFFE_CREDENTIALS_BAD_SNAPSHOT_MESSAGE$/ },
    { name: 'key cut short', message: { ...first, keyPem: first.keyPem.slice(0, 60) }, code: /^ERR_SPIFFE_(PEM|SVID)_/ },
    { name: 'bundle of a bad trust domain', message: { ...first, bundles: [{ trustDomain: 'Not A Domain', pem: first.bundles[0]?.pem ?? '' }] }, code: /^ERR_SPIFFE_TRUST_DOMAIN_/ }
  ]
  for (const c of cases) t.throws(() => snapshotFromMessage(c.message), { code: c.code }, c.name)
})

t.test('a replica follows newer snapshots only and fails closed outside the svid validity', async (t) => {
  const messages = (await published()).map(snapshotFromMessage)
  const [one, two, three] = messages
  if (one === undefined || two === undefined || three === undefined) throw new Error('no snapshot')
  const replica = new SnapshotReplica()
  t.equal(replica.usable(Date.now()), false, 'nothing yet')
  const seen: number[] = []
  const stop = replica.subscribe((s) => { seen.push(s.generation) })
  t.equal(replica.publish(two), true)
  t.equal(replica.publish(one), false, 'an older generation cannot roll back')
  t.equal(replica.publish(two), false, 'a repeat changes nothing')
  t.equal(replica.publish(three), true)
  stop()
  t.same(seen, [2, 3])
  t.equal(replica.current(), three)
  t.equal(replica.usable(three.svid.notBefore), true)
  t.equal(replica.usable(three.svid.notAfter + 1), false, 'expired: not usable')
})
