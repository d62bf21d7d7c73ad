import t from 'tap'
import { BundleSet } from './bundle-set.ts'
import { checkNameConstraints } from './name-constraints.ts'
import { NOW, domain, leaf, nameConstraints, presented, withExtensions } from './testing/spiffe-fixtures.ts'
import { verifyX509Svid } from './verify-x509-svid.ts'

const a = await domain('a.test', { intermediate: true })
const bundles = BundleSet.of([a.bundle])
const issued = await leaf(a.issuer, 'spiffe://a.test/web', { dnsNames: ['web.a.test'] })
const [leafCert, intermediate] = presented(issued)

type Subtrees = Parameters<typeof nameConstraints>[0]

// the intermediate, re-signed by the root with a name constraints extension added
const constrained = (permitted: Subtrees, excluded: Subtrees = []): ReturnType<typeof presented> => [
  leafCert!,
  withExtensions(intermediate!, a.root.privateKey, [{ oid: '2.5.29.30', critical: true, value: nameConstraints(permitted, excluded) }])
]

const cases: Array<[string, Subtrees, Subtrees, string | undefined]> = [
  ['permitting the trust domain', [['uri', 'a.test'], ['dns', 'a.test']], [], undefined],
  ['permitting the trust domain and another', [['uri', 'b.test'], ['uri', 'a.test']], [], undefined],
  ['excluding another domain', [], [['uri', 'b.test'], ['dns', 'b.test']], undefined],
  ['permitting subdomains only', [['uri', '.a.test']], [], 'ERR_SPIFFE_VERIFY_NAME_CONSTRAINTS_VIOLATED'],
  ['permitting another domain', [['uri', 'b.test']], [], 'ERR_SPIFFE_VERIFY_NAME_CONSTRAINTS_VIOLATED'],
  ['permitting a suffix that is not a label boundary', [['uri', 'test']], [], 'ERR_SPIFFE_VERIFY_NAME_CONSTRAINTS_VIOLATED'],
  ['excluding the domain', [], [['uri', 'a.test']], 'ERR_SPIFFE_VERIFY_NAME_CONSTRAINTS_VIOLATED'],
  ['excluding the dns name', [['uri', 'a.test']], [['dns', 'web.a.test']], 'ERR_SPIFFE_VERIFY_NAME_CONSTRAINTS_VIOLATED'],
  ['permitting other dns names', [['dns', 'b.test']], [], 'ERR_SPIFFE_VERIFY_NAME_CONSTRAINTS_VIOLATED'],
  ['an unsupported form', [['email', 'a.test']], [], 'ERR_SPIFFE_VERIFY_NAME_CONSTRAINTS_UNSUPPORTED']
]

for (const [name, permitted, excluded, code] of cases) {
  t.test(`name constraints ${name}: ${code ?? 'accepted'}`, async (t) => {
    const run = (): unknown => verifyX509Svid(constrained(permitted, excluded), bundles, { role: 'server', now: NOW })
    if (code === undefined) t.doesNotThrow(run)
    else t.throws(run, { code, message: /name constraints reject the chain of "spiffe:\/\/a\.test\/web"/ })
  })
}

t.test('dns matching adds labels on the left only', async (t) => {
  const ca = constrained([['dns', 'a.test']])[1]!
  const other = await leaf(a.issuer, 'spiffe://a.test/x', { dnsNames: ['xa.test'] })
  t.same(checkNameConstraints(ca, [leafCert!]), { ok: true })
  t.match(checkNameConstraints(ca, [other.cert]), { ok: false, reason: 'violated' })
  t.same(checkNameConstraints(a.root.cert, [other.cert]), { ok: true }, 'no extension, no constraint')
})
