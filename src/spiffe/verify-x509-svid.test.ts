import t from 'tap'
import type { X509Certificate } from 'node:crypto'
import { createRootCa, type CertificateProfile } from '../pki/index.ts'
import { BundleSet } from './bundle-set.ts'
import { OID, certInfo } from './cert-info.ts'
import { MAX_CANDIDATES } from './path-builder.ts'
import {
  DAY, HOUR, NOW, ca, domain, leaf, presented, tamper, tlv, withExtensions
} from './testing/spiffe-fixtures.ts'
import { TrustDomain } from './trust-domain.ts'
import { verifyX509Svid, type VerifyOptions } from './verify-x509-svid.ts'
import { X509Bundle } from './x509-bundle.ts'

const a = await domain('a.test', { intermediate: true })
const b = await domain('b.test', { intermediate: true })
const bundles = BundleSet.of([a.bundle, b.bundle])
// a root that copies the subject of a.test's real root
const rogue = await domain('a.test', { intermediate: true })

const A = 'spiffe://a.test/web'
const rsaRoot = await createRootCa({ subject: 'CN=a.test RSA Root', keyAlgorithm: 'RSA_2048', notBefore: NOW - DAY })
const rsaBundles = async (): Promise<BundleSet> => BundleSet.of([new X509Bundle(a.td, [rsaRoot.cert])])
const noKuRoot = await ca('self', 'CN=a.test Root without key usage', { keyUsage: 'omit' })
const noKuBundles = async (): Promise<BundleSet> => BundleSet.of([new X509Bundle(a.td, [noKuRoot.cert])])

interface Case {
  name: string
  /** Expected error code; undefined means the chain is accepted. */
  code?: string
  chain: () => Promise<X509Certificate[]>
  bundles?: () => Promise<BundleSet>
  role?: VerifyOptions['role']
  now?: number
  /** For accepted chains: the expected path, leaf to anchor. */
  path?: (chain: X509Certificate[]) => X509Certificate[]
}

const viaRoot = async (profile: CertificateProfile = {}, uri: string | string[] = A): Promise<X509Certificate[]> =>
  presented(await leaf(a.root, uri, profile))
const viaIntermediate = async (profile: CertificateProfile = {}, uri: string | string[] = A): Promise<X509Certificate[]> =>
  presented(await leaf(a.issuer, uri, profile))

const accepted: Case[] = [
  { name: 'leaf signed by the root', chain: viaRoot, path: (c) => [c[0]!, a.root.cert] },
  { name: 'leaf + intermediate', chain: viaIntermediate, path: (c) => [c[0]!, a.issuer.cert, a.root.cert] },
  { name: 'leaf + intermediate for a client', role: 'client', chain: viaIntermediate },
  { name: 'peer also sends its root', chain: async () => [...await viaIntermediate(), a.root.cert], path: (c) => [c[0]!, a.issuer.cert, a.root.cert] },
  { name: 'intermediates in any order with an unrelated extra', chain: async () => { const [l, i] = await viaIntermediate(); return [l!, b.issuer.cert, i!] } },
  { name: 'dns sans beside the uri san', chain: () => viaRoot({ dnsNames: ['web.a.test'] }) },
  { name: 'a subject and a non-critical san', chain: () => viaRoot({ subject: 'CN=web', sanCritical: false }) },
  { name: 'no extended key usage at all', chain: () => viaRoot({ extKeyUsage: 'omit' }) },
  { name: 'serverAuth only, as a server', chain: () => viaRoot({ extKeyUsage: ['serverAuth'] }) },
  { name: 'clientAuth only, as a client', role: 'client', chain: () => viaRoot({ extKeyUsage: ['clientAuth'] }) },
  { name: 'anyExtendedKeyUsage', role: 'client', chain: () => viaRoot({ extKeyUsage: [OID.anyExtendedKeyUsage] }) },
  { name: 'keyEncipherment and keyAgreement beside digitalSignature', chain: () => viaRoot({ keyUsage: ['digitalSignature', 'keyEncipherment', 'keyAgreement'] }) },
  { name: 'validity bounds are inclusive', now: NOW + HOUR, chain: () => viaRoot() },
  { name: 'a 2048-byte spiffe id', chain: () => viaRoot({}, `spiffe://a.test/${'x'.repeat(2048 - 'spiffe://a.test/'.length)}`) },
  { name: 'an uppercase scheme (case-insensitive, SPIFFE-ID 2.4)', chain: () => viaRoot({}, 'SPIFFE://a.test/web') },
  { name: 'an rsa authority and an rsa leaf key', chain: async () => presented(await leaf(rsaRoot, A, { keyAlgorithm: 'RSA_2048' })), bundles: rsaBundles },
  { name: 'an authority without key usage', chain: async () => presented(await leaf(noKuRoot, A)), bundles: noKuBundles }
]

const leafRules: Case[] = [
  { name: 'two uri sans', code: 'ERR_SPIFFE_SVID_MULTIPLE_URI_SANS', chain: () => viaRoot({}, [A, 'spiffe://a.test/other']) },
  { name: 'a spiffe and a non-spiffe uri san', code: 'ERR_SPIFFE_SVID_MULTIPLE_URI_SANS', chain: () => viaRoot({}, [A, 'https://a.test/x']) },
  { name: 'no uri san, only dns', code: 'ERR_SPIFFE_SVID_NO_URI_SAN', chain: () => viaRoot({ dnsNames: ['web.a.test'] }, []) },
  { name: 'no san extension', code: 'ERR_SPIFFE_SVID_NO_URI_SAN', chain: () => viaRoot({ subject: 'CN=web' }, []) },
  { name: 'non-spiffe uri', code: 'ERR_SPIFFE_SVID_URI_NOT_SPIFFE', chain: () => viaRoot({}, 'https://a.test/web') },
  { name: 'malformed id (empty segment)', code: 'ERR_SPIFFE_SVID_INVALID_SPIFFE_ID', chain: () => viaRoot({}, 'spiffe://a.test/a//b') },
  { name: 'malformed id (uppercase trust domain)', code: 'ERR_SPIFFE_SVID_INVALID_SPIFFE_ID', chain: () => viaRoot({}, 'spiffe://A.test/web') },
  { name: 'malformed id (query)', code: 'ERR_SPIFFE_SVID_INVALID_SPIFFE_ID', chain: () => viaRoot({}, 'spiffe://a.test/web?x=1') },
  { name: 'id with no path', code: 'ERR_SPIFFE_SVID_ID_HAS_NO_PATH', chain: () => viaRoot({}, 'spiffe://a.test') },
  { name: 'empty subject with a non-critical san', code: 'ERR_SPIFFE_SVID_SAN_NOT_CRITICAL', chain: () => viaRoot({ sanCritical: false }) },
  { name: 'ca leaf', code: 'ERR_SPIFFE_SVID_IS_CA', chain: () => viaRoot({ isCa: true }) },
  { name: 'keyCertSign', code: 'ERR_SPIFFE_SVID_KEY_CERT_SIGN', chain: () => viaRoot({ keyUsage: ['digitalSignature', 'keyCertSign'] }) },
  { name: 'cRLSign', code: 'ERR_SPIFFE_SVID_CRL_SIGN', chain: () => viaRoot({ keyUsage: ['digitalSignature', 'cRLSign'] }) },
  { name: 'missing digitalSignature', code: 'ERR_SPIFFE_SVID_NO_DIGITAL_SIGNATURE', chain: () => viaRoot({ keyUsage: ['keyEncipherment'] }) },
  { name: 'no key usage extension', code: 'ERR_SPIFFE_SVID_NO_KEY_USAGE', chain: () => viaRoot({ keyUsage: 'omit' }) },
  { name: 'non-critical key usage', code: 'ERR_SPIFFE_SVID_KEY_USAGE_NOT_CRITICAL', chain: () => viaRoot({ keyUsageCritical: false }) },
  { name: 'eku without serverAuth, as a server', code: 'ERR_SPIFFE_SVID_EKU_NO_SERVER_AUTH', chain: () => viaRoot({ extKeyUsage: ['clientAuth'] }) },
  { name: 'eku without clientAuth, as a client', role: 'client', code: 'ERR_SPIFFE_SVID_EKU_NO_CLIENT_AUTH', chain: () => viaRoot({ extKeyUsage: ['serverAuth'] }) },
  { name: 'eku with neither', role: 'client', code: 'ERR_SPIFFE_SVID_EKU_NO_CLIENT_AUTH', chain: () => viaRoot({ extKeyUsage: ['codeSigning'] }) },
  { name: 'expired leaf', code: 'ERR_SPIFFE_SVID_EXPIRED', chain: () => viaRoot({ notAfter: NOW - 1000 }) },
  { name: 'not-yet-valid leaf', code: 'ERR_SPIFFE_SVID_NOT_YET_VALID', chain: () => viaRoot({ notBefore: NOW + 1000 }) },
  {
    name: 'unknown critical extension on the leaf',
    code: 'ERR_SPIFFE_SVID_UNHANDLED_CRITICAL_EXTENSION',
    chain: async () => [withExtensions((await viaRoot())[0]!, a.root.privateKey, [{ oid: '1.3.6.1.4.1.99999.1', critical: true, value: tlv(0x05) }])]
  }
]

// an intermediate of a.test wrapped with extra certificates and keys
const intermediateChain = async (profile: CertificateProfile, parent = a.root): Promise<X509Certificate[]> => {
  const int = await ca(parent, 'CN=a.test Odd Intermediate', profile)
  return [(await leaf(int, A)).cert, int.cert]
}
const pathLenRoot = await ca('self', 'CN=p.test Root', { pathLen: 0 })
const pathLenBundles = async (): Promise<BundleSet> => BundleSet.of([new X509Bundle(TrustDomain.fromString('a.test'), [pathLenRoot.cert])])
const expiredRoot = await ca('self', 'CN=a.test Old Root', { notBefore: NOW - 30 * DAY, notAfter: NOW - DAY })

const pathRules: Case[] = [
  { name: 'empty chain', code: 'ERR_SPIFFE_VERIFY_EMPTY_CHAIN', chain: async () => [] },
  { name: 'eleven certificates', code: 'ERR_SPIFFE_VERIFY_CHAIN_TOO_LONG', chain: async () => [...await viaIntermediate(), ...Array<X509Certificate>(9).fill(b.issuer.cert)] },
  { name: 'an id in a domain with no bundle', code: 'ERR_SPIFFE_VERIFY_NO_BUNDLE', chain: () => viaRoot({}, 'spiffe://c.test/web') },
  { name: 'missing intermediate', code: 'ERR_SPIFFE_VERIFY_NO_PATH', chain: async () => (await viaIntermediate()).slice(0, 1) },
  { name: 'tampered leaf signature', code: 'ERR_SPIFFE_VERIFY_BAD_SIGNATURE', chain: async () => (await viaRoot()).map(tamper) },
  { name: 'tampered intermediate signature', code: 'ERR_SPIFFE_VERIFY_BAD_SIGNATURE', chain: async () => { const [l, i] = await viaIntermediate(); return [l!, tamper(i!)] } },
  { name: 'a.test leaf signed by the b.test root', code: 'ERR_SPIFFE_VERIFY_NO_PATH', chain: async () => presented(await leaf(b.root, A)) },
  { name: 'a.test leaf signed by the b.test intermediate', code: 'ERR_SPIFFE_VERIFY_NO_PATH', chain: async () => presented(await leaf(b.issuer, A)) },
  { name: 'a.test leaf via b.test intermediate and root', code: 'ERR_SPIFFE_VERIFY_NO_PATH', chain: async () => [...presented(await leaf(b.issuer, A)), b.root.cert] },
  { name: 'rogue root with the real root subject', code: 'ERR_SPIFFE_VERIFY_BAD_SIGNATURE', chain: async () => presented(await leaf(rogue.root, A)) },
  { name: 'rogue root presented too', code: 'ERR_SPIFFE_VERIFY_BAD_SIGNATURE', chain: async () => [...presented(await leaf(rogue.root, A)), rogue.root.cert] },
  { name: 'rogue intermediate with the real intermediate subject', code: 'ERR_SPIFFE_VERIFY_BAD_SIGNATURE', chain: async () => presented(await leaf(rogue.issuer, A)) },
  { name: 'expired intermediate', code: 'ERR_SPIFFE_VERIFY_CERT_EXPIRED', chain: () => intermediateChain({ notBefore: NOW - DAY, notAfter: NOW - HOUR }) },
  { name: 'not-yet-valid intermediate', code: 'ERR_SPIFFE_VERIFY_CERT_NOT_YET_VALID', chain: () => intermediateChain({ notBefore: NOW + HOUR }) },
  {
    name: 'expired authority',
    code: 'ERR_SPIFFE_VERIFY_CERT_EXPIRED',
    chain: async () => presented(await leaf(expiredRoot, A)),
    bundles: async () => BundleSet.of([new X509Bundle(a.td, [expiredRoot.cert])])
  },
  { name: 'intermediate that is not a ca', code: 'ERR_SPIFFE_VERIFY_ISSUER_NOT_CA', chain: () => intermediateChain({ isCa: false, keyUsage: ['keyCertSign'] }) },
  { name: 'intermediate without keyCertSign', code: 'ERR_SPIFFE_VERIFY_ISSUER_NO_KEY_CERT_SIGN', chain: () => intermediateChain({ keyUsage: ['cRLSign', 'digitalSignature'] }) },
  { name: 'intermediate without key usage', code: 'ERR_SPIFFE_VERIFY_ISSUER_NO_KEY_CERT_SIGN', chain: () => intermediateChain({ keyUsage: 'omit' }) },
  {
    name: 'intermediate with an unknown critical extension',
    code: 'ERR_SPIFFE_VERIFY_UNHANDLED_CRITICAL_EXTENSION',
    chain: async () => { const [l, i] = await viaIntermediate(); return [l!, withExtensions(i!, a.root.privateKey, [{ oid: '1.2.3.4', critical: true, value: tlv(0x05) }])] }
  },
  { name: 'root pathLen 0 with an intermediate', code: 'ERR_SPIFFE_VERIFY_PATH_LEN_EXCEEDED', chain: () => intermediateChain({}, pathLenRoot), bundles: pathLenBundles },
  {
    name: 'intermediate pathLen 0 with a sub-intermediate',
    code: 'ERR_SPIFFE_VERIFY_PATH_LEN_EXCEEDED',
    chain: async () => {
      const int = await ca(a.root, 'CN=a.test Int pathLen 0', { pathLen: 0 })
      const sub = await ca(int, 'CN=a.test Sub')
      return [(await leaf(sub, A)).cert, sub.cert, int.cert]
    }
  },
  { name: 'root pathLen 0 signing the leaf directly is fine', chain: async () => presented(await leaf(pathLenRoot, A)), bundles: pathLenBundles },
  {
    name: 'leaf whose key identifier names another issuer',
    code: 'ERR_SPIFFE_VERIFY_ISSUER_MISMATCH',
    chain: async () => {
      const l = await leaf(a.root, A, { authorityKeyIdentifier: false })
      const aki = tlv(0x30, tlv(0x80, Buffer.alloc(20, 7)))
      return [withExtensions(l.cert, a.root.privateKey, [{ oid: '2.5.29.35', critical: false, value: aki }])]
    }
  }
]

for (const c of [...accepted, ...leafRules, ...pathRules]) {
  t.test(`${c.code === undefined ? 'accepts' : 'rejects'} ${c.name}`, async (t) => {
    const chain = await c.chain()
    const set = c.bundles === undefined ? bundles : await c.bundles()
    const run = (): ReturnType<typeof verifyX509Svid> => verifyX509Svid(chain, set, { role: c.role ?? 'server', now: c.now ?? NOW })
    if (c.code === undefined) {
      const verified = run()
      t.equal(verified.id.toString(), certInfo(chain[0]!).san.uris[0]?.replace(/^spiffe:/i, 'spiffe:'))
      t.ok(verified.id.trustDomain.equals(a.td))
      t.equal(verified.chain[0], chain[0], 'the path starts with the leaf')
      t.ok(set.get('a.test')?.authorities.includes(verified.chain.at(-1)!), 'the path ends at an authority of a.test')
      if (c.path !== undefined) t.same(verified.chain.map((x) => x.fingerprint256), c.path(chain).map((x) => x.fingerprint256))
    } else {
      const err = t.throws(run, { code: c.code, name: 'SpiffeLbError' }) as Error
      t.match(err.message, /^[^A-Z]/, 'message starts lowercase')
      if (chain.length > 0 && chain.length <= 10) t.match(err.message, /"/, 'message quotes the offending value')
    }
  })
}

t.test('the verified id and messages name the right values', async (t) => {
  const chain = await viaIntermediate()
  t.equal(verifyX509Svid(chain, bundles, { role: 'server', now: new Date(NOW) }).id.toString(), A)
  t.throws(() => verifyX509Svid(chain.slice(0, 1), bundles, { role: 'server', now: NOW }), {
    message: /^certificate chain for "spiffe:\/\/a\.test\/web" does not chain to any authority of trust domain "a\.test"/
  })
  const cLeaf = presented(await leaf(a.root, 'spiffe://c.test/x'))
  t.throws(() => verifyX509Svid(cLeaf, bundles, { role: 'server', now: NOW }), {
    message: /trust domain "c\.test"/
  })
  const dotLeaf = presented(await leaf(a.root, 'spiffe://a.test/a/../b'))
  const err = t.throws(() => verifyX509Svid(dotLeaf, bundles, { role: 'server', now: NOW }),
    { code: 'ERR_SPIFFE_SVID_INVALID_SPIFFE_ID' }) as Error
  t.match((err.cause as { code: string }).code, 'ERR_SPIFFE_ID_PATH_DOT_SEGMENT', 'the id rule broken is the cause')
})

t.test('only the bundle of the leaf\'s own domain is consulted', async (t) => {
  // b.test trusts a.test's root too: still no b.test SVID may chain through it unless b's bundle holds it
  const bLeaf = presented(await leaf(a.root, 'spiffe://b.test/svc'))
  t.throws(() => verifyX509Svid(bLeaf, bundles, { role: 'server', now: NOW }), { code: 'ERR_SPIFFE_VERIFY_NO_PATH' })
  const both = BundleSet.of([a.bundle, b.bundle.withAuthorities([a.root.cert])])
  t.equal(verifyX509Svid(bLeaf, both, { role: 'server', now: NOW }).id.toString(), 'spiffe://b.test/svc')
  t.throws(() => verifyX509Svid(bLeaf, BundleSet.of([a.bundle]), { role: 'server', now: NOW }), { code: 'ERR_SPIFFE_VERIFY_NO_BUNDLE' })
})

t.test('path search is bounded', async (t) => {
  // nine self-issued CAs sharing one key: each verifies every other, so a naive search would
  // walk 9! orders before giving up. None reaches an a.test authority.
  const key = (await ca('self', 'CN=loop')).privateKey
  const loop = await Promise.all(Array.from({ length: 9 }, async () => ca('self', 'CN=loop', { privateKey: key })))
  const l = await leaf(loop[0]!, A)
  t.throws(() => verifyX509Svid([l.cert, ...loop.map((c) => c.cert)], bundles, { role: 'server', now: NOW }),
    { code: 'ERR_SPIFFE_VERIFY_TOO_MANY_CANDIDATES' })
  t.throws(() => verifyX509Svid([l.cert, ...loop.slice(0, 2).map((c) => c.cert)], bundles, { role: 'server', now: NOW }),
    { code: 'ERR_SPIFFE_VERIFY_NO_PATH' }, 'a small loop ends without a path')
  t.ok(MAX_CANDIDATES < 9 * 8 * 7)
})
