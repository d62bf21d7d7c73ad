import t from 'tap'
import { createCrl } from '../pki/crl.ts'
import { parsePem } from '../internal/pem.ts'
import { BundleSet } from '../spiffe/bundle-set.ts'
import { TrustDomain } from '../spiffe/trust-domain.ts'
import { X509Bundle } from '../spiffe/x509-bundle.ts'
import { X509Svid } from '../spiffe/x509-svid.ts'
import type { CertificateAuthority } from '../pki/ca-types.ts'
import { OWN_TD, fixtures } from './testing/credential-fixtures.ts'
import { withDeliveredCrls } from './workload-api-crls.ts'

const fx = await fixtures()
const candidate = {
  svid: X509Svid.fromPem(fx.withPeer.chainPem, fx.withPeer.keyPem),
  bundles: BundleSet.of(fx.withPeer.bundles.map(([td, pem]) => X509Bundle.fromPem(TrustDomain.fromString(td), pem)))
}
const der = async (ca: CertificateAuthority, serial = '0a'): Promise<Buffer> => {
  const pem = await createCrl(ca, [{ serialHex: serial, revokedAt: Date.now() }], Date.now(), Date.now() + 3_600_000)
  return parsePem(pem, 'crl')[0]?.der ?? Buffer.alloc(0)
}

t.test('each delivered CRL goes to the trust domain whose CA signed it', async (t) => {
  t.ok(candidate.svid.chain.length > 1, 'the svid comes with its intermediate')
  const out = await withDeliveredCrls(candidate, [await der(fx.peerRoot, '0b'), await der(fx.intermediate, '0c'), await der(fx.root, '0d')], 'wapi')
  const serials = (td: string): string[] => (out.crls?.get(td) ?? []).flatMap((l) => [...l.revokedSerials])
  t.same(serials('peer.test'), ['b'], 'a federated domain\'s CRL, matched by its signature')
  t.same(serials(OWN_TD), ['c', 'd'], 'the own domain: by its issuing intermediate (from the svid chain) and by its root')
  t.same((out.crls?.get('peer.test') ?? []).map((l) => l.source), ['wapi crl[0]'])
  t.equal(await withDeliveredCrls(candidate, [], 'wapi'), candidate, 'no crl: the candidate as it was')
})

t.test('a CRL no delivered bundle verifies, or garbage, keeps the message out', async (t) => {
  await t.rejects(withDeliveredCrls(candidate, [await der(fx.otherRoot)], 'wapi'),
    { code: 'ERR_SPIFFE_CREDENTIALS_CRL_INVALID', message: /not signed by any trusted ca .*delivered bundles: .*peer\.test.*the crl cannot be matched to a trust domain/ })
  await t.rejects(withDeliveredCrls(candidate, [Buffer.from('garbage')], 'wapi'), { code: 'ERR_SPIFFE_CREDENTIALS_CRL_INVALID', message: /is not an x\.509 crl/ })
})
