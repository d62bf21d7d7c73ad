import t from 'tap'
import { X509Certificate } from 'node:crypto'
import { OID, certInfo, certLabel, parseCertInfo } from './cert-info.ts'
import { domain, leaf, nameConstraints, tlv, withExtensions } from './testing/spiffe-fixtures.ts'

const a = await domain('a.test', { intermediate: true })

t.test('reads the x.509-svid leaf profile', async (t) => {
  const { cert } = await leaf(a.issuer, 'spiffe://a.test/web', { dnsNames: ['web.a.test', 'web'] })
  const info = certInfo(cert)
  t.equal(info.version, 3)
  t.equal(info.subjectEmpty, true)
  t.equal(info.selfIssued, false)
  t.same(info.san.uris, ['spiffe://a.test/web'])
  t.same(info.san.dnsNames, ['web.a.test', 'web'])
  t.equal(info.san.otherCount, 2)
  t.equal(info.san.critical, true)
  t.same(info.basicConstraints, { present: true, critical: true, ca: false, pathLen: undefined })
  t.match(info.keyUsage, { present: true, critical: true, digitalSignature: true, keyCertSign: false, cRLSign: false, keyEncipherment: false })
  t.same(info.extKeyUsage, [OID.serverAuth, OID.clientAuth])
  t.equal(info.nameConstraints.present, false)
  t.same(info.unhandledCriticalExtensions, [])
  t.equal(certLabel(cert), `serial ${cert.serialNumber.toLowerCase()}`)
})

t.test('reads ca certificates', async (t) => {
  const root = certInfo(a.root.cert)
  t.equal(root.selfIssued, true)
  t.equal(root.subjectEmpty, false)
  t.equal(root.basicConstraints.ca, true)
  t.match(root.keyUsage, { present: true, keyCertSign: true, cRLSign: true, digitalSignature: false })
  t.equal(root.extKeyUsage, undefined)
  t.equal(root.san.present, false)
  t.ok(certInfo(a.issuer.cert).issuerDer.equals(root.subjectDer), 'intermediate issuer name is the root subject')
  t.equal(certLabel(a.root.cert), 'CN=a.test Root')
})

t.test('reads pathLen, absent extensions and other bits', async (t) => {
  const withLen = await leaf(a.issuer, 'spiffe://a.test/x', { isCa: true, pathLen: 2, keyUsage: ['keyAgreement', 'decipherOnly'] })
  t.same(certInfo(withLen.cert).basicConstraints, { present: true, critical: true, ca: true, pathLen: 2 })
  t.match(certInfo(withLen.cert).keyUsage, { keyAgreement: true, decipherOnly: true, digitalSignature: false })
  const bare = await leaf(a.issuer, [], { omitBasicConstraints: true, keyUsage: 'omit', extKeyUsage: 'omit', subject: 'CN=x' })
  const info = certInfo(bare.cert)
  t.same(info.basicConstraints, { present: false, critical: false, ca: false, pathLen: undefined })
  t.equal(info.keyUsage.present, false)
  t.equal(info.extKeyUsage, undefined)
  t.equal(info.san.present, false)
  t.same(info.san.uris, [])
})

t.test('parses once per certificate object', async (t) => {
  const { cert } = await leaf(a.issuer, 'spiffe://a.test/c')
  t.equal(certInfo(cert), certInfo(cert), 'same object from the cache')
  t.not(certInfo(new X509Certificate(cert.raw)), certInfo(cert), 'a new object is parsed anew')
})

t.test('reads name constraints and unhandled critical extensions', async (t) => {
  const base = await leaf(a.issuer, 'spiffe://a.test/n', { isCa: true })
  const cert = withExtensions(base.cert, a.issuer.privateKey, [
    { oid: '2.5.29.30', critical: true, value: nameConstraints([['uri', '.a.test'], ['dns', 'a.test']], [['email', 'x@y']]) },
    { oid: '1.2.3.4', critical: true, value: tlv(0x05) },
    { oid: '1.2.3.5', critical: false, value: Buffer.from('not der at all') }
  ])
  t.ok(cert.verify(a.issuer.cert.publicKey), 'the rewritten certificate is properly signed')
  const info = certInfo(cert)
  t.same(info.nameConstraints, {
    present: true,
    critical: true,
    permitted: [{ kind: 'uri', value: '.a.test' }, { kind: 'dns', value: 'a.test' }],
    excluded: [{ kind: 'email', value: 'x@y' }]
  })
  t.same(info.unhandledCriticalExtensions, ['1.2.3.4'], 'only critical unknown extensions are listed')
})

t.test('rejects a duplicated extension and malformed extension values', async (t) => {
  const base = await leaf(a.issuer, 'spiffe://a.test/d')
  const dup = withExtensions(base.cert, a.issuer.privateKey, [
    { oid: '2.5.29.17', critical: false, value: tlv(0x30, tlv(0x86, Buffer.from('spiffe://a.test/evil'))) }
  ])
  t.throws(() => certInfo(dup), { code: 'ERR_SPIFFE_CERT_DUPLICATE_EXTENSION' })
  t.throws(() => certInfo(dup), { code: 'ERR_SPIFFE_CERT_DUPLICATE_EXTENSION' }, 'the error is cached too')
  const bad = await leaf(a.issuer, [], { keyUsage: 'omit', subject: 'CN=bad ku' })
  const badKu = withExtensions(bad.cert, a.issuer.privateKey, [{ oid: '2.5.29.15', critical: true, value: tlv(0x04, Buffer.from([1])) }])
  t.throws(() => certInfo(badKu), { code: 'ERR_SPIFFE_CERT_MALFORMED', message: /"CN=bad ku".*expected a bit string/ })
  t.throws(() => parseCertInfo(Buffer.concat([base.cert.raw, Buffer.from([0])])), { code: 'ERR_SPIFFE_DER_MALFORMED' })
})
