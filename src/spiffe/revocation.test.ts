import t from 'tap'
import type { X509Certificate } from 'node:crypto'
import { HOUR, NOW, domain, leaf, presented } from './testing/spiffe-fixtures.ts'
import { earliestNextUpdate, normalizeSerial, revocationKey, type RevocationByDomain, type RevocationList } from './revocation.ts'
import { BundleSet } from './bundle-set.ts'
import { auditX509Svid, verifyX509Svid } from './verify-x509-svid.ts'

const a = await domain('a.test', { intermediate: true })
const b = await domain('b.test', { intermediate: true })
const bundles = BundleSet.of([a.bundle, b.bundle])
const chain = presented(await leaf(a.issuer, 'spiffe://a.test/web'))
const [leafCert, intermediate] = chain as [X509Certificate, X509Certificate]

/** A CRL as data: signed (already verified) by `issuer`, listing `revoked`. */
const crl = (issuer: X509Certificate, revoked: X509Certificate[], nextUpdate: number | undefined = NOW + HOUR): RevocationList => ({
  issuerFingerprint: issuer.fingerprint256,
  revokedSerials: new Set(revoked.map((c) => normalizeSerial(c.serialNumber))),
  thisUpdate: NOW - HOUR,
  nextUpdate,
  source: 'test.crl'
})

const cases: Array<{ name: string, revocation: RevocationByDomain, code?: string, warnings?: number }> = [
  { name: 'the leaf, by its issuer\'s CRL in its own domain', revocation: new Map([['a.test', { lists: [crl(intermediate, [leafCert])] }]]), code: 'ERR_SPIFFE_VERIFY_REVOKED' },
  { name: 'the intermediate, by the root\'s CRL', revocation: new Map([['a.test', { lists: [crl(a.root.cert, [intermediate])] }]]), code: 'ERR_SPIFFE_VERIFY_REVOKED' },
  { name: 'nothing: the CRL is another domain\'s', revocation: new Map([['b.test', { lists: [crl(intermediate, [leafCert])] }]]) },
  { name: 'nothing: a CRL of the issuer that lists other serials', revocation: new Map([['a.test', { lists: [crl(intermediate, [intermediate])] }]]) },
  { name: 'a stale CRL, closed by default', revocation: new Map([['a.test', { lists: [crl(intermediate, [], NOW - 1)] }]]), code: 'ERR_SPIFFE_VERIFY_CRL_STALE' },
  { name: 'a stale CRL under fail-open: accepted with a warning', revocation: new Map([['a.test', { lists: [crl(intermediate, [], NOW - 1)], staleCrl: 'fail-open' }]]), warnings: 1 },
  { name: 'a CRL without nextUpdate never goes stale', revocation: new Map([['a.test', { lists: [crl(intermediate, [], undefined)] }]]) }
]

for (const c of cases) {
  t.test(`revocationByDomain: ${c.name}`, async (t) => {
    const opts = { role: 'server' as const, now: NOW, revocationByDomain: c.revocation }
    const audit = auditX509Svid(chain, bundles, opts)
    t.same(audit.failures.map((f) => f.code), c.code === undefined ? [] : [c.code])
    t.equal(audit.warnings.length, c.warnings ?? 0)
    if (c.code === undefined) t.equal(verifyX509Svid(chain, bundles, opts).id.toString(), 'spiffe://a.test/web')
    else t.throws(() => verifyX509Svid(chain, bundles, opts), { code: c.code })
  })
}

t.test('revocationKey tells CRL sets apart; earliestNextUpdate', async (t) => {
  const one = { lists: [crl(intermediate, [leafCert])] }
  t.equal(revocationKey(one), revocationKey({ lists: [crl(intermediate, [leafCert])] }), 'same content, same key')
  t.not(revocationKey(one), revocationKey({ lists: [crl(intermediate, [])] }), 'another serial list')
  t.not(revocationKey(one), revocationKey({ ...one, staleCrl: 'fail-open' }), 'another stale policy')
  t.equal(revocationKey(undefined), '')
  t.equal(earliestNextUpdate({ lists: [crl(intermediate, [], NOW + 2 * HOUR), crl(a.root.cert, [], NOW + HOUR), crl(a.root.cert, [], undefined)] }), NOW + HOUR)
  t.equal(earliestNextUpdate(undefined), undefined)
})
