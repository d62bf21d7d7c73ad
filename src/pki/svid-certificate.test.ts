import t from 'tap'
import { createHash, X509Certificate, type KeyObject } from 'node:crypto'
import { createRootCa, createSubordinateCa } from './certificate-authority.ts'
import type { CertificateAuthority } from './ca-types.ts'
import { KEY_ALGORITHMS, generateKeys, isRsa, keyAlgorithmOf, type KeyAlgorithm } from './key-algorithm.ts'
import { issueSvidCertificate } from './svid-certificate.ts'
import { OID, basicConstraints, children, keyId, keyUsageNames, oidString, rawExtensions } from './testing/der-extensions.ts'

const T0 = Date.UTC(2026, 0, 1, 12, 0, 0, 750) // not on a second boundary on purpose
const DAY = 86_400_000
const URI = 'spiffe://example.org/ns/lb/sa/frontend'

const SIG_OID: Record<KeyAlgorithm, string> = {
  ECDSA_P256: '1.2.840.10045.4.3.2',
  ECDSA_P384: '1.2.840.10045.4.3.3',
  RSA_2048: '1.2.840.113549.1.1.11',
  RSA_3072: '1.2.840.113549.1.1.11',
  RSA_4096: '1.2.840.113549.1.1.11'
}

/** The signatureAlgorithm OID of a certificate, read from its DER. */
function signatureOid (cert: X509Certificate): string {
  const [, sigAlg] = children(children(cert.raw)[0]?.value ?? Buffer.alloc(0))
  return oidString(children(sigAlg?.value ?? Buffer.alloc(0))[0]?.value ?? Buffer.alloc(0))
}

/** RFC 5280 4.2.1.2 method 1, computed here independently of the issuing code. */
function expectedKeyId (key: KeyObject): string {
  const spki = key.export({ type: 'spki', format: 'der' })
  const bits = children(children(spki)[0]?.value ?? Buffer.alloc(0))[1]?.value ?? Buffer.alloc(0)
  return createHash('sha1').update(bits.subarray(1)).digest('hex')
}

// RSA_4096 keys take about a second: the table generates exactly one and uses it for both the
// CA and (through `publicKey`, the keep-your-own-key path) the leaf.
const rsa4096 = await generateKeys('RSA_4096')

for (const alg of KEY_ALGORITHMS) {
  t.test(`X.509-SVID profile with ${alg}`, async (t) => {
    const given = alg === 'RSA_4096' ? rsa4096 : undefined
    const root = await createRootCa({ subject: 'CN=Root, O=Test', keyAlgorithm: alg, notBefore: T0 - DAY, ...(given ? { privateKey: given.privateKey } : {}) })
    const issued = given === undefined
      ? await issueSvidCertificate(root, { uri: URI, keyAlgorithm: alg, notBefore: T0, lifetimeMs: DAY })
      : { ...await issueSvidCertificate(root, { uri: URI, notBefore: T0, lifetimeMs: DAY, publicKey: given.publicKey }), privateKey: given.privateKey }
    const cert = new X509Certificate(issued.certPem)
    t.equal(cert.fingerprint256, issued.cert.fingerprint256, 'certPem and cert agree')
    t.equal(keyAlgorithmOf(cert.publicKey), alg, 'leaf key algorithm')
    t.ok(cert.checkPrivateKey(issued.privateKey), 'private key matches')
    t.equal(signatureOid(cert), SIG_OID[alg], 'signature algorithm follows the issuer key')
    t.ok(cert.verify(root.cert.publicKey), 'signed by the root')
    t.ok(cert.checkIssued(root.cert), 'issuer name is the root subject')
    t.equal((cert.subject as string | undefined) ?? '', '', 'empty subject')
    t.equal(cert.issuer, 'CN=Root\nO=Test')
    t.equal(cert.subjectAltName, `URI:${URI}`, 'exactly one URI SAN')
    t.equal(cert.ca, false)
    t.same(cert.keyUsage, ['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2'], 'EKU serverAuth, clientAuth')
    t.equal(cert.validFromDate.getTime(), Math.floor(T0 / 1000) * 1000, 'notBefore to the second')
    t.equal(cert.validToDate.getTime(), Math.floor(T0 / 1000) * 1000 + DAY - 1000, 'lifetime, last second inclusive')
    t.match(issued.serialHex, /^[0-9a-f]{32}$/, '128-bit serial')
    t.equal(issued.serialHex, cert.serialNumber.toLowerCase())
    t.equal(issued.chainPem, issued.certPem, 'issued by a root: the chain is the leaf alone')

    const ext = rawExtensions(cert)
    t.same([...ext.keys()].sort(), Object.values(OID).sort(), 'exactly the six profile extensions')
    t.equal(ext.get(OID.subjectAltName)?.critical, true, 'SAN critical because the subject is empty')
    const bc = ext.get(OID.basicConstraints)
    t.equal(bc?.critical, true)
    t.same(basicConstraints(bc?.value ?? Buffer.alloc(0)), { ca: false, pathLen: undefined }, 'CA:FALSE')
    const ku = ext.get(OID.keyUsage)
    t.equal(ku?.critical, true, 'keyUsage critical')
    t.same(keyUsageNames(ku?.value ?? Buffer.alloc(0)), isRsa(alg) ? ['digitalSignature', 'keyEncipherment'] : ['digitalSignature'])
    t.equal(ext.get(OID.extKeyUsage)?.critical, false)
    t.equal(keyId(ext.get(OID.subjectKeyIdentifier)?.value ?? Buffer.alloc(0)), expectedKeyId(cert.publicKey), 'SKI')
    t.equal(keyId(ext.get(OID.authorityKeyIdentifier)?.value ?? Buffer.alloc(0), true), expectedKeyId(root.cert.publicKey), 'AKI is the root SKI')
  })
}

t.test('serials are random and positive', async (t) => {
  const root = await createRootCa({ subject: 'CN=Root' })
  const serials = new Set<string>()
  for (let i = 0; i < 16; i++) {
    const { cert } = await issueSvidCertificate(root, { uri: URI, lifetimeMs: DAY })
    const der = children(children(children(cert.raw)[0]?.value ?? Buffer.alloc(0))[0]?.value ?? Buffer.alloc(0))
    // tbsCertificate: [0] version, then the serial INTEGER.
    const serial = der[1]?.value ?? Buffer.alloc(0)
    t.ok(((serial[0] ?? 0) & 0x80) === 0, 'DER INTEGER is positive')
    t.ok(serial.length === 16 || (serial.length === 17 && serial[0] === 0), '128 bits')
    serials.add(cert.serialNumber)
  }
  t.equal(serials.size, 16, 'no two serials alike')
})

t.test('DNS SANs follow the URI; a subject makes the SAN non-critical', async (t) => {
  const root = await createRootCa({ subject: 'CN=Root' })
  const { cert } = await issueSvidCertificate(root, { uri: URI, dnsNames: ['a.example', 'b.example'], subject: 'CN=frontend', lifetimeMs: DAY })
  t.equal(cert.subjectAltName, `URI:${URI}, DNS:a.example, DNS:b.example`)
  t.equal(cert.subject, 'CN=frontend')
  t.equal(rawExtensions(cert).get(OID.subjectAltName)?.critical, false)
})

t.test('notAfter is clamped to the issuer notAfter', async (t) => {
  const root = await createRootCa({ subject: 'CN=Root', notBefore: T0, lifetimeMs: 2 * DAY })
  const sub = await createSubordinateCa(root, { subject: 'CN=Sub', notBefore: T0, lifetimeMs: DAY })
  const { cert, chainPem, certPem } = await issueSvidCertificate(sub, { uri: URI, notBefore: T0 + DAY / 2, lifetimeMs: DAY })
  t.equal(cert.validToDate.getTime(), sub.cert.validToDate.getTime(), 'ends with the issuing CA')
  t.equal(chainPem, certPem + sub.certPem, 'chain: leaf then the intermediate, no root')
  const short = await issueSvidCertificate(sub, { uri: URI, notBefore: T0, lifetimeMs: 3600_000 })
  t.equal(short.cert.validToDate.getTime(), Math.floor(T0 / 1000) * 1000 + 3600_000 - 1000, 'a shorter lifetime is kept')
})

t.test('the shortest lifetime, 1s, is one valid second (notAfter == notBefore), not an issuer error', async (t) => {
  const root = await createRootCa({ subject: 'CN=Root', notBefore: T0, lifetimeMs: DAY })
  const { cert } = await issueSvidCertificate(root, { uri: URI, notBefore: T0 + 1500, lifetimeMs: 1000 })
  t.equal(cert.validFromDate.getTime(), Math.floor((T0 + 1500) / 1000) * 1000)
  t.equal(cert.validToDate.getTime(), cert.validFromDate.getTime(), 'x.509 validity is inclusive: one second')
})

t.test('issuing refuses what cannot make a valid leaf', async (t) => {
  const root = await createRootCa({ subject: 'CN=Root', notBefore: T0, lifetimeMs: DAY })
  await t.rejects(issueSvidCertificate(root, { uri: URI, notBefore: T0 + 2 * DAY, lifetimeMs: DAY }), { code: 'ERR_SPIFFE_PKI_ISSUER_EXPIRED' })
  await t.rejects(issueSvidCertificate(root, { uri: '', lifetimeMs: DAY }), { code: 'ERR_SPIFFE_PKI_EMPTY_URI' })
  await t.rejects(issueSvidCertificate(root, { uri: URI, lifetimeMs: 0 }), { code: 'ERR_SPIFFE_PKI_LIFETIME' })
  await t.rejects(issueSvidCertificate(root, { uri: URI, notBefore: T0, lifetimeMs: DAY, subject: 'nonsense' }), { code: 'ERR_SPIFFE_PKI_BAD_SUBJECT' })
})

t.test('a given public key is certified and no private key is returned', async (t) => {
  const root: CertificateAuthority = await createRootCa({ subject: 'CN=Root' })
  const own = await generateKeys('ECDSA_P384')
  const signed = await issueSvidCertificate(root, { uri: URI, lifetimeMs: DAY, publicKey: own.publicKey })
  t.ok(signed.cert.checkPrivateKey(own.privateKey))
  t.notOk('privateKey' in signed, 'no key in the result')
  const fromPrivate = await issueSvidCertificate(root, { uri: URI, lifetimeMs: DAY, publicKey: own.privateKey })
  t.ok(fromPrivate.cert.checkPrivateKey(own.privateKey), 'a private key is certified by its public half')
  t.notOk('keyPem' in fromPrivate)
})
