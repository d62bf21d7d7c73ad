import t from 'tap'
import { EventEmitter } from 'node:events'
import type { TLSSocket } from 'node:tls'
import { BundleSet } from '../spiffe/bundle-set.ts'
import type { X509Snapshot } from '../spiffe/snapshot.ts'
import { TestSnapshots, makeDomain, makeSvid } from '../../test/tls-fixtures.ts'
import { LiveConnections } from './live-connections.ts'

/** A socket stand-in that records what it was destroyed with. */
class FakeSocket extends EventEmitter {
  destroyedWith: Error | undefined
  destroy (err?: Error): this { this.destroyedWith = err; this.emit('close'); return this }
}

const [own, partner, other] = await Promise.all([makeDomain('own.test'), makeDomain('partner.test'), makeDomain('other.test')])
const partnerSvid = await makeSvid(partner, '/backend')
const ownSvid = await makeSvid(own, '/backend')
const snapshot = (bundles: BundleSet): X509Snapshot => ({ ...(new TestSnapshots(ownSvid, [own.bundle]).current() as X509Snapshot), bundles })

function setup (): { live: LiveConnections, toPartner: FakeSocket[], toOwn: FakeSocket } {
  const live = new LiveConnections()
  const toPartner = [new FakeSocket(), new FakeSocket()]
  for (const s of toPartner) live.add(s as unknown as TLSSocket, '127.0.0.1:1', { id: partnerSvid.id, chain: partnerSvid.chain, resumed: false })
  const toOwn = new FakeSocket()
  live.add(toOwn as unknown as TLSSocket, '127.0.0.1:2', { id: ownSvid.id, chain: ownSvid.chain, resumed: false })
  return { live, toPartner, toOwn }
}

t.test('a peer that still verifies is kept; one whose domain is gone is ended once, with the rule', async (t) => {
  const { live, toPartner, toOwn } = setup()
  t.same(live.recheck(snapshot(BundleSet.of([own.bundle, partner.bundle, other.bundle])), Date.now()), [], 'an unrelated domain added ends nothing')
  const events = live.recheck(snapshot(BundleSet.of([own.bundle])), Date.now())
  t.same(events.map((e) => [e.endpoint, e.code, e.reason, e.peerId]), [
    ['127.0.0.1:1', 'ERR_SPIFFE_TLS_PEER_UNTRUSTED', 'ERR_SPIFFE_VERIFY_NO_BUNDLE', 'spiffe://partner.test/backend'],
    ['127.0.0.1:1', 'ERR_SPIFFE_TLS_PEER_UNTRUSTED', 'ERR_SPIFFE_VERIFY_NO_BUNDLE', 'spiffe://partner.test/backend']
  ])
  t.match(events[0]?.message, /backend "127\.0\.0\.1:1" \(spiffe:\/\/partner\.test\/backend\) no longer verifies .*partner\.test.*\(ERR_SPIFFE_VERIFY_NO_BUNDLE\)/)
  t.ok(toPartner.every((s) => (s.destroyedWith as { code?: string } | undefined)?.code === 'ERR_SPIFFE_TLS_PEER_UNTRUSTED'), 'each socket destroyed with the coded error')
  t.equal(toOwn.destroyedWith, undefined, 'the own-domain connection is untouched')
  t.equal(live.size, 1)
  t.same(live.recheck(snapshot(BundleSet.of([own.bundle])), Date.now()), [], 'nothing is reported twice')
})

t.test('our SVID unusable ends every open connection; closed ones are forgotten', async (t) => {
  const { live, toPartner, toOwn } = setup()
  toPartner[0]?.emit('close')
  t.equal(live.size, 2)
  const events = live.endAll('spiffe://own.test/lb', 'expired at 2026-01-01T00:00:00.000Z')
  t.same(events.map((e) => [e.code, e.reason]), [['ERR_SPIFFE_TLS_SVID_UNUSABLE', 'ERR_SPIFFE_TLS_SVID_UNUSABLE'], ['ERR_SPIFFE_TLS_SVID_UNUSABLE', 'ERR_SPIFFE_TLS_SVID_UNUSABLE']])
  t.match(events[0]?.message, /our svid "spiffe:\/\/own\.test\/lb" expired at/)
  t.equal(toPartner[0]?.destroyedWith, undefined, 'a closed connection is not ended again')
  t.ok(toOwn.destroyedWith !== undefined)
  t.equal(live.size, 0)
})
