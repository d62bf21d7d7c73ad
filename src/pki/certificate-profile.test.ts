import t, { type Test as TapTest, type TestOpts } from 'tap'
import type { BuiltPlugins } from '@tapjs/test'
import { X509Certificate } from 'node:crypto'
import { createRootCa } from './certificate-authority.ts'
import { issueCertificate, type CertificateProfile } from './certificate-profile.ts'
import { generateKeys, keyAlgorithmOf } from './key-algorithm.ts'
import { OID, basicConstraints, keyId, keyUsageNames, rawExtensions, type RawExtension } from './testing/der-extensions.ts'

// The type tap passes to a subtest callback.
type Test = TapTest<BuiltPlugins, TestOpts> & BuiltPlugins

const T0 = Date.UTC(2026, 0, 1)
const DAY = 86_400_000
const URI = 'spiffe://example.org/a'
const root = await createRootCa({ subject: 'CN=Root', notBefore: T0 - DAY, lifetimeMs: 30 * DAY })

interface Parsed { cert: X509Certificate, ext: Map<string, RawExtension> }
const v = (e: RawExtension | undefined): Buffer => e?.value ?? Buffer.alloc(0)

// Each row changes one field from the default (the X.509-SVID profile) and checks that exactly
// that change is encoded.
const cases: Array<[string, CertificateProfile, (t: Test, p: Parsed) => void]> = [
  ['defaults are the SVID leaf profile', { uris: [URI] }, (t, { cert, ext }) => {
    t.equal(cert.subjectAltName, `URI:${URI}`)
    t.equal(ext.get(OID.subjectAltName)?.critical, true)
    t.same(basicConstraints(v(ext.get(OID.basicConstraints))), { ca: false, pathLen: undefined })
    t.same(keyUsageNames(v(ext.get(OID.keyUsage))), ['digitalSignature'])
    t.equal(ext.get(OID.keyUsage)?.critical, true)
    t.same(cert.keyUsage, ['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2'])
    t.ok(ext.has(OID.subjectKeyIdentifier) && ext.has(OID.authorityKeyIdentifier))
    t.equal(cert.validToDate.getTime() - cert.validFromDate.getTime(), DAY - 1000)
  }],
  ['subject', { subject: 'CN=svc, O=Org', uris: [URI] }, (t, { cert, ext }) => {
    t.equal(cert.subject, 'CN=svc\nO=Org')
    t.equal(ext.get(OID.subjectAltName)?.critical, false, 'SAN non-critical by default with a subject')
  }],
  ['two URIs', { uris: [URI, 'spiffe://example.org/b'] }, (t, { cert }) => {
    t.equal(cert.subjectAltName, `URI:${URI}, URI:spiffe://example.org/b`)
  }],
  ['DNS only', { dnsNames: ['x.example'] }, (t, { cert }) => { t.equal(cert.subjectAltName, 'DNS:x.example') }],
  ['no SAN at all', {}, (t, { cert, ext }) => {
    t.equal(cert.subjectAltName, undefined)
    t.notOk(ext.has(OID.subjectAltName))
  }],
  ['sanCritical false with empty subject', { uris: [URI], sanCritical: false }, (t, { ext }) => {
    t.equal(ext.get(OID.subjectAltName)?.critical, false)
  }],
  ['CA leaf', { uris: [URI], isCa: true }, (t, { cert, ext }) => {
    t.equal(cert.ca, true)
    t.same(keyUsageNames(v(ext.get(OID.keyUsage))), ['keyCertSign', 'cRLSign'], 'CA default key usage')
    t.notOk(ext.has(OID.extKeyUsage), 'CA default: no EKU')
  }],
  ['CA with pathLen', { isCa: true, pathLen: 3 }, (t, { ext }) => {
    t.same(basicConstraints(v(ext.get(OID.basicConstraints))), { ca: true, pathLen: 3 })
  }],
  ['omit basicConstraints', { uris: [URI], omitBasicConstraints: true }, (t, { ext }) => {
    t.notOk(ext.has(OID.basicConstraints))
  }],
  ['basicConstraints not critical', { uris: [URI], basicConstraintsCritical: false }, (t, { ext }) => {
    t.equal(ext.get(OID.basicConstraints)?.critical, false)
  }],
  ['keyUsage list', { uris: [URI], keyUsage: ['digitalSignature', 'keyCertSign', 'keyAgreement'] }, (t, { ext }) => {
    t.same(keyUsageNames(v(ext.get(OID.keyUsage))), ['digitalSignature', 'keyAgreement', 'keyCertSign'])
  }],
  ['keyUsage without digitalSignature', { uris: [URI], keyUsage: ['keyEncipherment'] }, (t, { ext }) => {
    t.same(keyUsageNames(v(ext.get(OID.keyUsage))), ['keyEncipherment'])
  }],
  ['omit keyUsage', { uris: [URI], keyUsage: 'omit' }, (t, { ext }) => { t.notOk(ext.has(OID.keyUsage)) }],
  ['keyUsage not critical', { uris: [URI], keyUsageCritical: false }, (t, { ext }) => {
    t.equal(ext.get(OID.keyUsage)?.critical, false)
  }],
  ['EKU serverAuth only', { uris: [URI], extKeyUsage: ['serverAuth'] }, (t, { cert }) => {
    t.same(cert.keyUsage, ['1.3.6.1.5.5.7.3.1'])
  }],
  ['EKU by OID, critical', { uris: [URI], extKeyUsage: ['codeSigning', '1.2.3.4'], extKeyUsageCritical: true }, (t, { cert, ext }) => {
    t.same(cert.keyUsage, ['1.3.6.1.5.5.7.3.3', '1.2.3.4'])
    t.equal(ext.get(OID.extKeyUsage)?.critical, true)
  }],
  ['omit EKU', { uris: [URI], extKeyUsage: 'omit' }, (t, { ext }) => { t.notOk(ext.has(OID.extKeyUsage)) }],
  ['no SKI, no AKI', { uris: [URI], subjectKeyIdentifier: false, authorityKeyIdentifier: false }, (t, { ext }) => {
    t.notOk(ext.has(OID.subjectKeyIdentifier))
    t.notOk(ext.has(OID.authorityKeyIdentifier))
  }],
  ['validity, not clamped to the issuer', { uris: [URI], notBefore: T0 - 5 * DAY, notAfter: T0 + 90 * DAY }, (t, { cert }) => {
    t.equal(cert.validFromDate.getTime(), T0 - 5 * DAY)
    t.equal(cert.validToDate.getTime(), T0 + 90 * DAY, 'outlives the root on purpose')
  }],
  ['expired', { uris: [URI], notBefore: T0 - 3 * DAY, notAfter: T0 - 2 * DAY }, (t, { cert }) => {
    t.ok(cert.validToDate.getTime() < T0)
  }],
  ['serial', { uris: [URI], serialHex: '0102' }, (t, { cert }) => { t.equal(cert.serialNumber, '0102') }],
  ['key algorithm', { uris: [URI], keyAlgorithm: 'RSA_2048' }, (t, { cert }) => {
    t.equal(keyAlgorithmOf(cert.publicKey), 'RSA_2048')
  }]
]

for (const [name, profile, check] of cases) {
  t.test(name, async (t) => {
    const issued = await issueCertificate(root, { notBefore: T0, ...profile })
    const cert = new X509Certificate(issued.certPem)
    t.ok(cert.verify(root.cert.publicKey), 'signed by the issuer')
    t.ok(cert.checkPrivateKey(issued.privateKey), 'returned key matches')
    t.equal(issued.chainPem, issued.certPem)
    check(t, { cert, ext: rawExtensions(cert) })
  })
}

t.test('self-signed, with a given key', async (t) => {
  const { privateKey } = await generateKeys('ECDSA_P384')
  const issued = await issueCertificate('self', { uris: [URI], privateKey })
  t.equal(issued.privateKey, privateKey)
  t.ok(issued.cert.verify(issued.cert.publicKey), 'self-signed')
  const ext = rawExtensions(issued.cert)
  t.equal(keyId(v(ext.get(OID.authorityKeyIdentifier)), true), keyId(v(ext.get(OID.subjectKeyIdentifier))), 'AKI = own SKI')
  t.equal(issued.chainPem, issued.certPem)
  const pub = await generateKeys()
  await t.rejects(issueCertificate('self', { privateKey: pub.publicKey }), { code: 'ERR_SPIFFE_PKI_SELF_SIGN_NEEDS_PRIVATE_KEY' })
})

t.test('profile values DER cannot carry are refused', async (t) => {
  await t.rejects(issueCertificate(root, { serialHex: 'xyz' }), { code: 'ERR_SPIFFE_PKI_BAD_SERIAL' })
  await t.rejects(issueCertificate(root, { extKeyUsage: ['nope'] }), { code: 'ERR_SPIFFE_PKI_UNKNOWN_EXT_KEY_USAGE' })
  await t.rejects(issueCertificate(root, { subject: 'garbage' }), { code: 'ERR_SPIFFE_PKI_BAD_SUBJECT' })
})
