import t from 'tap'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { ManualClock } from '../internal/clock.ts'
import { createCrl } from '../pki/crl.ts'
import { BundleSet } from '../spiffe/bundle-set.ts'
import { TrustDomain } from '../spiffe/trust-domain.ts'
import { X509Bundle } from '../spiffe/x509-bundle.ts'
import { X509Svid } from '../spiffe/x509-svid.ts'
import { changedTrustDomains } from '../tls/credential-changes.ts'
import { CRL_REFRESH_MAX_MS, CRL_RETRY_MS } from '../defaults.ts'
import { RevocationFeed } from './revocation-feed.ts'
import { snapshotFromMessage, snapshotToMessage } from './snapshot-message.ts'
import { CredentialStore } from './store.ts'
import { IDENTITY, fixtures, type Material } from './testing/credential-fixtures.ts'

const candidate = (m: Material) => ({
  svid: X509Svid.fromPem(m.chainPem, m.keyPem),
  bundles: BundleSet.of(m.bundles.map(([td, pem]) => X509Bundle.fromPem(TrustDomain.fromString(td), pem)))
})

async function until (what: () => boolean, label: string): Promise<void> {
  const end = Date.now() + 20_000
  while (!what()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${label}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

t.test('a CRL url is fetched, refreshed, kept when a fetch fails, and moves the trust generation', async (t) => {
  const fx = await fixtures()
  const clock = new ManualClock(Date.now())
  const store = new CredentialStore({ identity: IDENTITY, clock })
  store.offer('test', candidate(fx.withPeer))
  const now = clock.now()
  const crls = {
    first: await createCrl(fx.peerRoot, [{ serialHex: '0a', revokedAt: now }], now - 1000, now + 3_600_000),
    second: await createCrl(fx.peerRoot, [{ serialHex: '0a', revokedAt: now }, { serialHex: '0b', revokedAt: now }], now, now + 3_600_000)
  }
  let answer: { status: number, body: string } = { status: 200, body: crls.first }
  const server = createServer((_req, res) => { res.writeHead(answer.status).end(answer.body) })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => { server.close() })
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/peer.crl`

  const before = store.current()
  const feed = new RevocationFeed([{ trustDomain: 'peer.test', files: [], urls: [url], staleCrl: 'fail-open' }], store, { clock })
  t.teardown(() => { feed.stop() })
  await feed.start()
  const first = store.current()
  if (before === undefined || first === undefined) throw new Error('no snapshot')
  t.equal(first.bundleGeneration, before.bundleGeneration + 1, 'a new CRL moves the bundle generation')
  t.equal(first.svidGeneration, before.svidGeneration, 'not the svid generation')
  t.same([...changedTrustDomains(before, first)], ['peer.test'], 'only the CRL\'s domain retires its connections')
  t.same([...(first.revocation?.get('peer.test')?.lists[0]?.revokedSerials ?? [])], ['a'])
  t.equal(first.revocation?.get('peer.test')?.staleCrl, 'fail-open')
  t.match(feed.status(), [{ trustDomain: 'peer.test', source: url, staleCrl: 'fail-open', revoked: 1, stale: false }])

  const copy = snapshotFromMessage(JSON.parse(JSON.stringify(snapshotToMessage(IDENTITY.toString(), first))))
  t.same([...(copy.revocation?.get('peer.test')?.lists[0]?.revokedSerials ?? [])], ['a'], 'the CRLs cross to cluster workers')

  answer = { status: 500, body: 'down' }
  clock.advance(CRL_REFRESH_MAX_MS)
  await until(() => feed.status()[0]?.lastError !== undefined, 'the failed fetch')
  t.match(feed.status()[0], { revoked: 1, lastError: { code: 'ERR_SPIFFE_CREDENTIALS_CRL_UNREADABLE', message: /answered http 500/ } }, 'the last good CRL stays')
  t.equal(store.current(), first, 'nothing republished')

  answer = { status: 200, body: crls.second }
  clock.advance(CRL_RETRY_MS)
  await until(() => feed.status()[0]?.revoked === 2, 'the refreshed CRL')
  t.equal(feed.status()[0]?.lastError, undefined)
  t.equal(store.current()?.bundleGeneration, first.bundleGeneration + 1)
  t.same([...(store.current()?.revocation?.get('peer.test')?.lists[0]?.revokedSerials ?? [])].sort(), ['a', 'b'])
})

t.test('a CRL of a domain signed by another domain\'s CA is refused at start', async (t) => {
  const fx = await fixtures()
  const clock = new ManualClock(Date.now())
  const store = new CredentialStore({ identity: IDENTITY, clock })
  store.offer('test', candidate(fx.withPeer))
  const crl = await createCrl(fx.otherRoot, [], clock.now(), clock.now() + 3_600_000)
  const server = createServer((_req, res) => { res.end(crl) })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => { server.close() })
  const feed = new RevocationFeed([{ trustDomain: 'peer.test', files: [], urls: [`http://127.0.0.1:${(server.address() as AddressInfo).port}/`], staleCrl: 'fail-closed' }], store, { clock })
  await t.rejects(feed.start(), { code: 'ERR_SPIFFE_PKI_CRL_UNVERIFIED' })
  feed.stop()
  t.equal(store.current()?.revocation, undefined)
})
