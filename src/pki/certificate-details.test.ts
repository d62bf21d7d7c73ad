import t from 'tap'
import { createRootCa, createSubordinateCa } from './certificate-authority.ts'
import { describeCertificate } from './certificate-details.ts'
import { issueCertificate } from './certificate-profile.ts'
import { issueSvidCertificate } from './svid-certificate.ts'

const T0 = Date.UTC(2026, 0, 1)
const DAY = 86_400_000

t.test('describes an SVID leaf', async (t) => {
  const root = await createRootCa({ subject: 'CN=Root, O=Demo', keyAlgorithm: 'ECDSA_P384', maxChainLength: 1, notBefore: T0 })
  const leaf = await issueSvidCertificate(root, { uri: 'spiffe://example.org/a', dnsNames: ['a.example'], notBefore: T0, lifetimeMs: DAY })
  const d = describeCertificate(leaf.cert)
  t.equal(d.subject, '')
  t.equal(d.issuer, 'CN=Root, O=Demo')
  t.equal(d.serialHex, leaf.serialHex)
  t.equal(d.notBefore.getTime(), T0)
  t.equal(d.notAfter.getTime(), T0 + DAY - 1000)
  t.equal(d.signatureAlgorithm, 'ecdsa-with-SHA384')
  t.same(d.publicKey, { type: 'ec', bits: 256, curve: 'prime256v1' })
  t.equal(d.keyAlgorithm, 'ECDSA_P256')
  t.same(d.subjectAltName, { critical: true, uris: ['spiffe://example.org/a'], dnsNames: ['a.example'], ipAddresses: [], emails: [], other: [] })
  t.same(d.basicConstraints, { critical: true, ca: false, pathLen: undefined })
  t.same(d.keyUsage, { critical: true, usages: ['digitalSignature'] })
  t.same(d.extKeyUsage, { critical: false, usages: ['serverAuth', 'clientAuth'] })
  t.equal(d.authorityKeyIdentifier, describeCertificate(root.cert).subjectKeyIdentifier)
  t.match(d.subjectKeyIdentifier, /^([0-9A-F]{2}:){19}[0-9A-F]{2}$/)
  t.same(d.otherExtensions, [])
  t.equal(d.fingerprintSha256, leaf.cert.fingerprint256)
})

t.test('describes CAs and odd certificates', async (t) => {
  const root = await createRootCa({ subject: 'CN=Root', keyAlgorithm: 'RSA_2048', maxChainLength: 1 })
  const sub = await createSubordinateCa(root, { subject: 'CN=Sub' })
  const r = describeCertificate(root.cert)
  t.equal(r.signatureAlgorithm, 'sha256WithRSAEncryption')
  t.same(r.publicKey, { type: 'rsa', bits: 2048, curve: undefined })
  t.same(r.basicConstraints, { critical: true, ca: true, pathLen: 1 })
  t.same(r.keyUsage, { critical: true, usages: ['keyCertSign', 'cRLSign'] })
  t.equal(r.extKeyUsage, undefined)
  t.equal(r.subjectAltName, undefined)
  t.same(describeCertificate(sub.cert).basicConstraints, { critical: true, ca: true, pathLen: 0 })
  const odd = await issueCertificate(root, { omitBasicConstraints: true, keyUsage: 'omit', extKeyUsage: ['1.2.3.4', 'clientAuth'], subjectKeyIdentifier: false })
  const o = describeCertificate(odd.cert)
  t.equal(o.basicConstraints, undefined)
  t.equal(o.keyUsage, undefined)
  t.same(o.extKeyUsage?.usages, ['1.2.3.4', 'clientAuth'])
  t.equal(o.subjectKeyIdentifier, undefined)
})
