import t from 'tap'
import type { X509Certificate } from 'node:crypto'
import { isSpiffeLbError } from '../internal/errors.ts'
import { BundleSet } from './bundle-set.ts'
import { DAY, HOUR, NOW, domain, leaf, presented } from './testing/spiffe-fixtures.ts'
import { auditX509Svid, verifyX509Svid, type VerifyOptions } from './verify-x509-svid.ts'

// auditX509Svid names every broken rule; verifyX509Svid (the proxy's) throws the first of them.

const a = await domain('a.test', { intermediate: true })
const other = await domain('other.test')
const bundles = BundleSet.of([a.bundle])
const A = 'spiffe://a.test/web'

interface Case {
  name: string
  chain: () => Promise<X509Certificate[]>
  /** Every code expected, in order. */
  codes: string[]
  role?: VerifyOptions['role']
  now?: number
}

const cases: Case[] = [
  { name: 'a good svid', codes: [], chain: async () => presented(await leaf(a.issuer, A)) },
  {
    name: 'ca leaf with keyCertSign, no digitalSignature, client-only eku, expired',
    now: NOW + 2 * HOUR,
    codes: ['ERR_SPIFFE_SVID_IS_CA', 'ERR_SPIFFE_SVID_KEY_CERT_SIGN', 'ERR_SPIFFE_SVID_NO_DIGITAL_SIGNATURE',
      'ERR_SPIFFE_SVID_EKU_NO_SERVER_AUTH', 'ERR_SPIFFE_SVID_EXPIRED'],
    chain: async () => presented(await leaf(a.issuer, A, { isCa: true, keyUsage: ['keyCertSign'], extKeyUsage: ['clientAuth'] }))
  },
  {
    name: 'non-critical key usage, and signed by another domain\'s ca',
    codes: ['ERR_SPIFFE_SVID_KEY_USAGE_NOT_CRITICAL', 'ERR_SPIFFE_VERIFY_NO_PATH'],
    chain: async () => presented(await leaf(other.issuer, A, { keyUsageCritical: false }))
  },
  {
    name: 'no uri san: no id, so no bundle lookup, but the profile is still judged',
    codes: ['ERR_SPIFFE_SVID_NO_URI_SAN', 'ERR_SPIFFE_SVID_NO_KEY_USAGE'],
    chain: async () => presented(await leaf(a.issuer, [], { subject: 'CN=nameless', keyUsage: 'omit' }))
  },
  {
    name: 'untrusted trust domain and not yet valid',
    now: NOW - DAY,
    codes: ['ERR_SPIFFE_SVID_NOT_YET_VALID', 'ERR_SPIFFE_VERIFY_NO_BUNDLE'],
    chain: async () => presented(await leaf(other.issuer, 'spiffe://other.test/web'))
  },
  { name: 'an empty chain', codes: ['ERR_SPIFFE_VERIFY_EMPTY_CHAIN'], chain: async () => [] }
]

for (const c of cases) {
  t.test(c.name, async (t) => {
    const chain = await c.chain()
    const opts: VerifyOptions = { role: c.role ?? 'server', now: c.now ?? NOW }
    const audit = auditX509Svid(chain, bundles, opts)
    t.same(audit.failures.map((f) => f.code), c.codes)
    for (const f of audit.failures) t.match(f.message, /^[a-z0-9 .:"-]/, 'lowercase message')
    let first: unknown
    try { verifyX509Svid(chain, bundles, opts) } catch (err) { first = err }
    if (c.codes.length === 0) {
      t.equal(first, undefined, 'the verifier accepts too')
      t.equal(audit.id?.toString(), A)
      t.equal(audit.path?.length, 3, 'leaf, intermediate, root')
      t.equal(audit.bundleTrustDomain, 'a.test')
    } else {
      t.ok(isSpiffeLbError(first), 'the verifier rejects')
      t.equal(isSpiffeLbError(first) ? first.code : undefined, c.codes[0], 'the verifier throws the first rule of the audit')
      t.equal(isSpiffeLbError(first) ? first.message : undefined, audit.failures[0]?.message, 'in the same words')
    }
  })
}
