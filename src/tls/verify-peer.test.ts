import t from 'tap'
import { SpiffeId } from '../spiffe/spiffe-id.ts'
import { TrustDomain } from '../spiffe/trust-domain.ts'
import { BundleSet } from '../spiffe/bundle-set.ts'
import { TLS_ERROR } from './errors.ts'
import { checkAllowed, verifyPeer } from './verify-peer.ts'
import { parseListen } from '../testbed/echo-backend.ts'

const id = SpiffeId.fromString('spiffe://a.test/client')
const cases: Array<[string, string[], string[], boolean]> = [
  ['no lists', [], [], true],
  ['listed id', ['spiffe://a.test/client'], [], true],
  ['other id only', ['spiffe://a.test/other'], [], false],
  ['listed domain', [], ['a.test'], true],
  ['other domain only', [], ['b.test'], false],
  ['union: domain matches, id does not', ['spiffe://b.test/x'], ['a.test'], true]
]
for (const [name, ids, tds, allowed] of cases) {
  t.test(`allow-list: ${name}`, async (t) => {
    const run = (): void => { checkAllowed(id, 'peer', ids.map((s) => SpiffeId.fromString(s)), tds.map((s) => TrustDomain.fromString(s))) }
    if (allowed) t.doesNotThrow(run)
    else t.throws(run, { code: TLS_ERROR.PEER_NOT_ALLOWED, reason: TLS_ERROR.PEER_NOT_ALLOWED })
  })
}

t.test('an empty chain is "no certificate", or "unverified" on a resumed session', async (t) => {
  const none = BundleSet.of([])
  t.throws(() => verifyPeer([], none, 'client', 0, 'x'), { code: TLS_ERROR.NO_PEER_CERTIFICATE })
  t.throws(() => verifyPeer([], none, 'server', 0, 'x', true), { code: TLS_ERROR.RESUMED_UNVERIFIED })
})

t.test('listen addresses', async (t) => {
  t.same(parseListen('127.0.0.1:0'), { host: '127.0.0.1', port: 0 })
  t.same(parseListen('[::1]:8443'), { host: '::1', port: 8443 })
  for (const bad of ['127.0.0.1', ':80', '127.0.0.1:70000', '::1:80']) {
    t.throws(() => parseListen(bad), { code: 'ERR_SPIFFE_TLS_BAD_LISTEN_ADDRESS' }, bad)
  }
})
