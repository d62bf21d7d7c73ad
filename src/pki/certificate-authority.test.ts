import t from 'tap'
import { X509Certificate } from 'node:crypto'
import { createRootCa, createSubordinateCa, loadCertificateAuthority, DEFAULT_CA_LIFETIME_MS } from './certificate-authority.ts'
import { issueCertificate } from './certificate-profile.ts'
import type { KeyAlgorithm } from './key-algorithm.ts'
import { issueSvidCertificate } from './svid-certificate.ts'
import { OID, basicConstraints, keyId, keyUsageNames, rawExtensions } from './testing/der-extensions.ts'

const T0 = Date.UTC(2026, 0, 1)
const DAY = 86_400_000

function bc (cert: X509Certificate): { critical: boolean | undefined, ca: boolean, pathLen: number | undefined } {
  const ext = rawExtensions(cert).get(OID.basicConstraints)
  return { critical: ext?.critical, ...basicConstraints(ext?.value ?? Buffer.alloc(0)) }
}

// RSA_4096 is covered by svid-certificate.test.ts; four algorithms keep this file fast.
const algs: KeyAlgorithm[] = ['ECDSA_P256', 'ECDSA_P384', 'RSA_2048', 'RSA_3072']
for (const keyAlgorithm of algs) {
  t.test(`root CA profile with ${keyAlgorithm}`, async (t) => {
    const ca = await createRootCa({ subject: 'CN=Demo Root CA, O=Demo', keyAlgorithm, maxChainLength: 1, notBefore: T0 })
    const cert = new X509Certificate(ca.certPem)
    t.equal(ca.keyAlgorithm, keyAlgorithm)
    t.equal(cert.subject, 'CN=Demo Root CA\nO=Demo', 'subject in the order written')
    t.equal(cert.issuer, cert.subject, 'self-issued')
    t.ok(cert.verify(cert.publicKey), 'self-signed')
    t.ok(cert.checkPrivateKey(ca.privateKey))
    t.match(ca.keyPem, /^-----BEGIN PRIVATE KEY-----/)
    t.equal(cert.ca, true)
    t.same(bc(cert), { critical: true, ca: true, pathLen: 1 })
    const ext = rawExtensions(cert)
    t.equal(ext.get(OID.keyUsage)?.critical, true)
    t.same(keyUsageNames(ext.get(OID.keyUsage)?.value ?? Buffer.alloc(0)), ['keyCertSign', 'cRLSign'])
    t.notOk(ext.has(OID.extKeyUsage), 'no EKU on a CA')
    t.notOk(ext.has(OID.subjectAltName))
    t.ok(ext.has(OID.subjectKeyIdentifier))
    t.equal(cert.validToDate.getTime() - cert.validFromDate.getTime(), DEFAULT_CA_LIFETIME_MS - 1000, '10 years by default')
    t.equal(ca.maxChainLength, 1)
    t.same(ca.chain.map((c) => c.fingerprint256), [cert.fingerprint256])
    t.equal(ca.chainPem, '', 'a root has no intermediates')
    t.equal(ca.rootPem, ca.certPem)
  })
}

t.test('subordinate CA: signed by the parent, AKI, pathLen, chain', async (t) => {
  const root = await createRootCa({ subject: 'CN=Root, O=Demo', maxChainLength: 2, notBefore: T0 })
  const sub = await createSubordinateCa(root, { subject: 'CN=Sub, O=Demo', keyAlgorithm: 'ECDSA_P384', notBefore: T0 })
  t.ok(sub.cert.verify(root.cert.publicKey))
  t.ok(sub.cert.checkIssued(root.cert))
  t.same(bc(sub.cert), { critical: true, ca: true, pathLen: 1 }, "pathLen defaults to the parent's minus one")
  const ext = rawExtensions(sub.cert)
  const rootSki = keyId(rawExtensions(root.cert).get(OID.subjectKeyIdentifier)?.value ?? Buffer.alloc(0))
  t.equal(keyId(ext.get(OID.authorityKeyIdentifier)?.value ?? Buffer.alloc(0), true), rootSki)
  t.equal(sub.chainPem, sub.certPem, 'chain excludes the root')
  t.equal(sub.rootPem, root.certPem)
  const third = await createSubordinateCa(sub, { subject: 'CN=Third', notBefore: T0 })
  t.equal(third.maxChainLength, 0)
  t.equal(third.chainPem, third.certPem + sub.certPem)
  t.same(third.chain.map((c) => c.subject), ['CN=Third', 'CN=Sub\nO=Demo', 'CN=Root\nO=Demo'])
  await t.rejects(createSubordinateCa(third, { subject: 'CN=Fourth' }), { code: 'ERR_SPIFFE_PKI_PATH_LENGTH', message: /pathLen 0/ })
  await t.rejects(createSubordinateCa(root, { subject: 'CN=x', maxChainLength: 2 }), { code: 'ERR_SPIFFE_PKI_MAX_CHAIN_LENGTH' })
  const explicit = await createSubordinateCa(root, { subject: 'CN=x', maxChainLength: 0, notBefore: T0 })
  t.equal(bc(explicit.cert).pathLen, 0)
  const unlimited = await createSubordinateCa(await createRootCa({ subject: 'CN=Free' }), { subject: 'CN=Sub' })
  t.equal(bc(unlimited.cert).pathLen, undefined, 'no pathLen under an unconstrained root')
})

t.test('a subordinate never outlives its parent', async (t) => {
  const root = await createRootCa({ subject: 'CN=Root', notBefore: T0, lifetimeMs: 10 * DAY })
  const sub = await createSubordinateCa(root, { subject: 'CN=Sub', notBefore: T0, lifetimeMs: 100 * DAY })
  t.equal(sub.cert.validToDate.getTime(), root.cert.validToDate.getTime())
})

t.test('bad CA options', async (t) => {
  await t.rejects(createRootCa({ subject: 'no equals sign' }), { code: 'ERR_SPIFFE_PKI_BAD_SUBJECT' })
  await t.rejects(createRootCa({ subject: 'CN=x', maxChainLength: -1 }), { code: 'ERR_SPIFFE_PKI_BAD_MAX_CHAIN_LENGTH' })
  await t.rejects(createRootCa({ subject: 'CN=x', maxChainLength: 1.5 }), { code: 'ERR_SPIFFE_PKI_BAD_MAX_CHAIN_LENGTH' })
  await t.rejects(createRootCa({ subject: 'CN=x', lifetimeMs: 0 }), { code: 'ERR_SPIFFE_PKI_LIFETIME' })
})

t.test('loadCertificateAuthority round-trips and checks the key and chain', async (t) => {
  const root = await createRootCa({ subject: 'CN=Root', maxChainLength: 1 })
  const sub = await createSubordinateCa(root, { subject: 'CN=Sub' })
  const other = await createRootCa({ subject: 'CN=Other' })

  const loadedRoot = loadCertificateAuthority(root.certPem, root.keyPem)
  t.equal(loadedRoot.cert.fingerprint256, root.cert.fingerprint256)
  t.equal(loadedRoot.maxChainLength, 1)
  t.equal(loadedRoot.chainPem, '')
  t.equal(loadedRoot.rootPem, root.certPem)

  for (const [name, certPem, parents] of [
    ['parents separate', sub.certPem, root.certPem],
    ['chain.pem + root.pem (own cert repeated)', sub.certPem, sub.chainPem + root.rootPem],
    ['parents in the cert file', sub.certPem + root.certPem, undefined],
    ['unrelated extras ignored', sub.certPem, other.certPem + root.certPem]
  ] as const) {
    const ca = loadCertificateAuthority(certPem, sub.keyPem, parents)
    t.same(ca.chain.map((c) => c.fingerprint256), sub.chain.map((c) => c.fingerprint256), name)
    t.equal(ca.chainPem, sub.chainPem, name)
    t.equal(ca.rootPem, root.certPem, name)
    t.equal(ca.keyAlgorithm, 'ECDSA_P256')
    const leaf = await issueSvidCertificate(ca, { uri: 'spiffe://example.org/x', lifetimeMs: DAY })
    t.ok(leaf.cert.verify(sub.cert.publicKey), `${name}: can issue`)
  }

  t.throws(() => loadCertificateAuthority(root.certPem, other.keyPem), { code: 'ERR_SPIFFE_PKI_KEY_MISMATCH' })
  t.throws(() => loadCertificateAuthority(sub.certPem, sub.keyPem), { code: 'ERR_SPIFFE_PKI_CHAIN_INCOMPLETE' })
  t.throws(() => loadCertificateAuthority(sub.certPem, sub.keyPem, other.certPem), { code: 'ERR_SPIFFE_PKI_CHAIN_INCOMPLETE' })
  t.throws(() => loadCertificateAuthority('', root.keyPem), { code: 'ERR_SPIFFE_PKI_NO_CERTIFICATE' })
  t.throws(() => loadCertificateAuthority(root.certPem, 'not a key'), { code: 'ERR_SPIFFE_PKI_BAD_KEY' })
  t.throws(() => loadCertificateAuthority(root.certPem.slice(0, 80), root.keyPem), { code: 'ERR_SPIFFE_PEM_TRUNCATED' })
  const leaf = await issueCertificate(root, { uris: ['spiffe://example.org/x'] })
  t.throws(() => loadCertificateAuthority(leaf.certPem, leaf.keyPem, root.certPem), { code: 'ERR_SPIFFE_PKI_NOT_A_CA' })
  const noCertSign = await issueCertificate('self', { subject: 'CN=x', isCa: true, keyUsage: ['digitalSignature'] })
  t.throws(() => loadCertificateAuthority(noCertSign.certPem, noCertSign.keyPem), { code: 'ERR_SPIFFE_PKI_NOT_A_CA' })
})
