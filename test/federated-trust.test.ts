import t from 'tap'
import { createBundleEndpointServer } from '../src/control/bundle-endpoint-server.ts'
import type { BundleEndpointConfig } from '../src/config/types.ts'
import { CredentialStore } from '../src/credentials/store.ts'
import { IDENTITY, OWN_TD, fixtures, svidPem } from '../src/credentials/testing/credential-fixtures.ts'
import { systemClock } from '../src/internal/clock.ts'
import { createRootCa, issueCertificate } from '../src/pki/index.ts'
import { FederatedTrust } from '../src/runtime/federated-trust.ts'
import { BundleSet } from '../src/spiffe/bundle-set.ts'
import { TrustDomain } from '../src/spiffe/trust-domain.ts'
import { X509Bundle } from '../src/spiffe/x509-bundle.ts'
import { X509Svid } from '../src/spiffe/x509-svid.ts'

// The runtime's federated trust against a real bundle endpoint: fetched bundles reach the store
// next to the inline ones, each change moves the bundle generation, and a reload that drops an
// endpoint distrusts its domain at once and stops polling it.
const PARTNER = TrustDomain.fromString('partner.example')

t.test('fetched bundles reach the store; a reload adds and removes endpoints', async (t) => {
  const fx = await fixtures()
  const webCa = await createRootCa({ subject: 'CN=Web CA', keyAlgorithm: 'ECDSA_P256' })
  const web = await issueCertificate(webCa, { subject: 'CN=localhost', dnsNames: ['localhost'], extKeyUsage: ['serverAuth'], notBefore: Date.now() - 60_000 })
  const partner = X509Bundle.fromPem(PARTNER, fx.peerRoot.certPem)
  let fetches = 0
  const server = await createBundleEndpointServer({
    listen: { host: '127.0.0.1', port: 0, address: '127.0.0.1:0' }, certPem: web.certPem, keyPem: web.keyPem, refreshHintMs: 3_600_000,
    bundle: async () => { fetches++; return { bundle: partner, sequence: 1 } }
  })
  t.teardown(server.close)
  const endpoint: BundleEndpointConfig = { trustDomain: PARTNER, url: `https://localhost:${server.address.port}/`, profile: 'https_web', caPem: webCa.certPem, maxBundleAgeMs: 3_600_000 }

  const trust = await FederatedTrust.open(fx.additional, [endpoint], systemClock)
  t.teardown(() => { trust.stop() })
  t.same(trust.bundles().trustDomains().map((d) => d.name).sort(), ['other.test', 'partner.example'], 'inline and fetched domains together')
  t.match(trust.status(), [{ trustDomain: 'partner.example', state: 'fresh', sequence: 1 }])

  const store = new CredentialStore({ identity: IDENTITY, additionalTrustBundles: trust.bundles() })
  trust.attach(store)
  const own = await svidPem(fx.root, IDENTITY.toString())
  store.offer('test', { svid: X509Svid.fromPem(own.chainPem, own.keyPem), bundles: BundleSet.of([X509Bundle.fromPem(TrustDomain.fromString(OWN_TD), fx.root.rootPem)]) })
  t.ok(store.current()?.bundles.get(PARTNER)?.equals(partner), 'the store trusts the fetched bundle')
  const generation = store.current()?.bundleGeneration ?? 0

  await trust.reconfigure(fx.additional, [])
  t.equal(store.current()?.bundles.has(PARTNER), false, 'an endpoint removed by a reload is distrusted at once')
  t.equal(store.current()?.bundleGeneration, generation + 1)
  t.same(trust.status(), [])

  const before = fetches
  await trust.reconfigure(BundleSet.empty(), [endpoint])
  t.equal(fetches, before + 1, 'a new endpoint is fetched during the reload')
  t.same(store.current()?.bundles.trustDomains().map((d) => d.name).sort(), [OWN_TD, 'partner.example'].sort(), 'inline domain dropped, fetched one back')
  await trust.reconfigure(BundleSet.empty(), [endpoint])
  t.equal(fetches, before + 2, 'an unchanged endpoint is fetched again on reload (SIGHUP)')
  t.equal(store.current()?.bundleGeneration, generation + 2, 'the same bundle again moves nothing')
})
