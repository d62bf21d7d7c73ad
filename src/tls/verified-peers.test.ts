import t from 'tap'
import type { X509Certificate } from 'node:crypto'
import { BundleSet } from '../spiffe/bundle-set.ts'
import { SpiffeId } from '../spiffe/spiffe-id.ts'
import type { VerifiedSvid } from '../spiffe/verify-x509-svid.ts'
import { VerifiedPeers } from './verified-peers.ts'

const fakeCert = (from: number, to: number): X509Certificate =>
  ({ validFromDate: new Date(from), validToDate: new Date(to) }) as unknown as X509Certificate
const peer = (...windows: Array<[number, number]>): VerifiedSvid =>
  ({ id: SpiffeId.fromString('spiffe://a.test/backend'), chain: windows.map(([f, to]) => fakeCert(f, to)) })

const bundles = BundleSet.empty()
const cases: Array<[string, (c: VerifiedPeers) => unknown, unknown]> = [
  ['a hit inside the intersection of every validity window', (c) => c.get('fp', bundles, 150)?.id.toString(), 'spiffe://a.test/backend'],
  ['a miss before the latest notBefore on the path', (c) => c.get('fp', bundles, 99), undefined],
  ['a miss after the earliest notAfter on the path', (c) => c.get('fp', bundles, 201), undefined],
  ['a miss for another bundle set, even an equal one', (c) => c.get('fp', BundleSet.empty(), 150), undefined],
  ['a miss for another leaf', (c) => c.get('other', bundles, 150), undefined]
]
for (const [name, probe, want] of cases) {
  t.test(name, async (t) => {
    const cache = new VerifiedPeers()
    cache.set('fp', bundles, peer([0, 300], [100, 200], [50, 1000]))
    t.same(probe(cache), want)
  })
}

t.test('an entry that missed for time or bundles is dropped, not kept', async (t) => {
  const cache = new VerifiedPeers()
  cache.set('fp', bundles, peer([0, 10]))
  t.equal(cache.get('fp', bundles, 11), undefined)
  t.equal(cache.size, 0)
})

t.test('bounded: the least recently used verdict goes first', async (t) => {
  const cache = new VerifiedPeers(2)
  cache.set('a', bundles, peer([0, 10]))
  cache.set('b', bundles, peer([0, 10]))
  cache.get('a', bundles, 5)
  cache.set('c', bundles, peer([0, 10]))
  t.equal(cache.size, 2)
  t.equal(cache.get('b', bundles, 5), undefined, 'b was least recently used')
  t.not(cache.get('a', bundles, 5), undefined)
  cache.clear()
  t.equal(cache.size, 0)
})
