import t from 'tap'
import { X509Certificate, createPublicKey } from 'node:crypto'
import { HOUR, NOW, domain, leaf } from './testing/spiffe-fixtures.ts'
import { X509Svid } from './x509-svid.ts'

const a = await domain('a.test', { intermediate: true })
const issued = await leaf(a.issuer, 'spiffe://a.test/web')
const other = await leaf(a.issuer, 'spiffe://a.test/other')

t.test('loads a chain and its key', async (t) => {
  const svid = X509Svid.fromPem(issued.chainPem, issued.keyPem, 'certificates.pem')
  t.equal(svid.id.toString(), 'spiffe://a.test/web')
  t.equal(svid.chain.length, 2)
  t.equal(svid.leaf.fingerprint256, issued.cert.fingerprint256)
  t.equal(svid.chain[1]?.fingerprint256, a.issuer.cert.fingerprint256)
  t.equal(svid.notBefore, NOW - HOUR)
  t.equal(svid.notAfter, NOW + HOUR)
  t.equal(svid.chainPem(), issued.chainPem)
  const again = X509Svid.fromPem(svid.chainPem(), svid.privateKeyPem())
  t.ok(again.id.equals(svid.id))
  t.match(svid.privateKeyPem(), /^-----BEGIN PRIVATE KEY-----/)
})

t.test('accepts sec1 and pkcs#1 keys and a combined file', async (t) => {
  const rsa = await leaf(a.issuer, 'spiffe://a.test/rsa', { keyAlgorithm: 'RSA_2048', keyUsage: ['digitalSignature', 'keyEncipherment'] })
  const pkcs1 = rsa.privateKey.export({ type: 'pkcs1', format: 'pem' }) as string
  t.match(pkcs1, /BEGIN RSA PRIVATE KEY/)
  t.equal(X509Svid.fromPem(rsa.chainPem, pkcs1).id.toString(), 'spiffe://a.test/rsa')
  const sec1 = issued.privateKey.export({ type: 'sec1', format: 'pem' }) as string
  t.equal(X509Svid.fromPem(issued.chainPem, sec1).id.toString(), 'spiffe://a.test/web')
  const combined = issued.keyPem + issued.chainPem
  t.equal(X509Svid.fromPem(combined, combined).chain.length, 2)
})

const encrypted = issued.privateKey.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'x' }) as string
const bad: Array<[string, string, string, string]> = [
  // name, chain, key, code
  ['an empty chain', '', issued.keyPem, 'ERR_SPIFFE_SVID_NO_CERTIFICATE'],
  ['a chain holding only a key', issued.keyPem, issued.keyPem, 'ERR_SPIFFE_SVID_NO_CERTIFICATE'],
  ['a chain that is not pem', 'hello world', issued.keyPem, 'ERR_SPIFFE_SVID_NOT_PEM'],
  ['a certificate block that is not a certificate', '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n', issued.keyPem, 'ERR_SPIFFE_SVID_BAD_CERTIFICATE'],
  ['a truncated chain', issued.chainPem.slice(0, 200), issued.keyPem, 'ERR_SPIFFE_PEM_TRUNCATED'],
  ['no key', issued.chainPem, '', 'ERR_SPIFFE_SVID_NO_PRIVATE_KEY'],
  ['a key file holding only certificates', issued.chainPem, issued.chainPem, 'ERR_SPIFFE_SVID_NO_PRIVATE_KEY'],
  ['a key that is not pem', issued.chainPem, 'not a key', 'ERR_SPIFFE_SVID_NOT_PEM'],
  ['several keys', issued.chainPem, issued.keyPem + other.keyPem, 'ERR_SPIFFE_SVID_MULTIPLE_PRIVATE_KEYS'],
  ['a key block that is not a key', issued.chainPem, '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n', 'ERR_SPIFFE_SVID_BAD_PRIVATE_KEY'],
  ['an encrypted key', issued.chainPem, encrypted, 'ERR_SPIFFE_SVID_ENCRYPTED_PRIVATE_KEY'],
  ['the key of another svid', issued.chainPem, other.keyPem, 'ERR_SPIFFE_SVID_KEY_MISMATCH'],
  ['the intermediate first', a.issuer.certPem + issued.certPem, issued.keyPem, 'ERR_SPIFFE_SVID_NO_URI_SAN']
]

for (const [name, chain, key, code] of bad) {
  t.test(`rejects ${name}`, async (t) => {
    const err = t.throws(() => X509Svid.fromPem(chain, key, 'creds/'), { code, at: 'creds/' }) as Error
    t.match(err.message, /^[^A-Z]/)
  })
}

t.test('applies the leaf profile to its own svid', async (t) => {
  const caLeaf = await leaf(a.issuer, 'spiffe://a.test/ca', { isCa: true })
  t.throws(() => X509Svid.fromPem(caLeaf.chainPem, caLeaf.keyPem), { code: 'ERR_SPIFFE_SVID_IS_CA', at: 'svid' })
  const noPath = await leaf(a.issuer, 'spiffe://a.test')
  t.throws(() => X509Svid.fromPem(noPath.chainPem, noPath.keyPem), { code: 'ERR_SPIFFE_SVID_ID_HAS_NO_PATH' })
})

t.test('the constructor refuses an empty chain or a public key', async (t) => {
  t.throws(() => new X509Svid([], issued.privateKey), { code: 'ERR_SPIFFE_SVID_NO_CERTIFICATE' })
  t.throws(() => new X509Svid([new X509Certificate(issued.certPem)], createPublicKey(issued.privateKey)), { code: 'ERR_SPIFFE_SVID_NO_PRIVATE_KEY' })
  t.equal(new X509Svid([issued.cert], issued.privateKey).id.toString(), 'spiffe://a.test/web')
})
