import t from 'tap'
import { createPrivateKey, sign, verify } from 'node:crypto'
import { isSpiffeLbError } from '../internal/errors.ts'
import { KEY_ALGORITHMS, generateKeys, keyAlgorithmOf, parseKeyAlgorithm, privateKeyPem, signatureParams, type KeyAlgorithm } from './key-algorithm.ts'

function thrown (fn: () => unknown): unknown {
  try { fn() } catch (err) { return err }
  return undefined
}

t.test('parseKeyAlgorithm accepts our names and gcloud CA key names', async (t) => {
  const cases: Array<[string, KeyAlgorithm]> = [
    ['ECDSA_P256', 'ECDSA_P256'], ['ECDSA_P384', 'ECDSA_P384'], ['RSA_2048', 'RSA_2048'],
    ['RSA_3072', 'RSA_3072'], ['RSA_4096', 'RSA_4096'],
    ['ec-p256-sha256', 'ECDSA_P256'], ['ec-p384-sha384', 'ECDSA_P384'],
    ['rsa-pkcs1-2048-sha256', 'RSA_2048'], ['rsa-pkcs1-3072-sha256', 'RSA_3072'], ['rsa-pkcs1-4096-sha256', 'RSA_4096']
  ]
  for (const [input, want] of cases) t.equal(parseKeyAlgorithm(input), want, input)
})

t.test('parseKeyAlgorithm rejects other names and lists the valid ones', async (t) => {
  for (const bad of ['', 'ecdsa_p256', 'ECDSA_P521', 'ec-p256-sha384', 'toString', '__proto__', 'rsa-pss-2048-sha256']) {
    const err = thrown(() => parseKeyAlgorithm(bad))
    t.ok(isSpiffeLbError(err, 'ERR_SPIFFE_PKI_UNKNOWN_KEY_ALGORITHM'), `${bad} code`)
    t.match(String((err as Error).message), `key algorithm ${JSON.stringify(bad)} is not one of ECDSA_P256, ECDSA_P384, RSA_2048, RSA_3072, RSA_4096, ec-p256-sha256,`)
    t.match(String((err as Error).message), 'rsa-pkcs1-4096-sha256')
  }
})

t.test('generateKeys makes a key of each algorithm that signs with its hash', async (t) => {
  // RSA_4096 is generated exactly once in this file (about a second).
  const expected: Record<KeyAlgorithm, { type: string, detail: string | number }> = {
    ECDSA_P256: { type: 'ec', detail: 'prime256v1' },
    ECDSA_P384: { type: 'ec', detail: 'secp384r1' },
    RSA_2048: { type: 'rsa', detail: 2048 },
    RSA_3072: { type: 'rsa', detail: 3072 },
    RSA_4096: { type: 'rsa', detail: 4096 }
  }
  for (const alg of KEY_ALGORITHMS) {
    const { privateKey, publicKey } = await generateKeys(alg)
    t.equal(privateKey.asymmetricKeyType, expected[alg].type, `${alg} type`)
    const d = privateKey.asymmetricKeyDetails
    t.equal(d?.namedCurve ?? d?.modulusLength, expected[alg].detail, `${alg} size`)
    t.equal(keyAlgorithmOf(privateKey), alg)
    t.equal(keyAlgorithmOf(publicKey), alg)
    const pem = privateKeyPem(privateKey)
    t.match(pem, /^-----BEGIN PRIVATE KEY-----\n/, 'PKCS#8')
    t.equal(keyAlgorithmOf(createPrivateKey(pem)), alg, 'pem round trip')
    const hash = String(signatureParams(alg).hash)
    t.equal(hash, alg === 'ECDSA_P384' ? 'SHA-384' : 'SHA-256')
    const sig = sign(hash.replace('-', '').toLowerCase(), Buffer.from('x'), privateKey)
    t.ok(verify(hash.replace('-', '').toLowerCase(), Buffer.from('x'), publicKey, sig))
  }
})

t.test('keyAlgorithmOf refuses keys outside the five algorithms', async (t) => {
  const { generateKeyPairSync } = await import('node:crypto')
  const others = [
    generateKeyPairSync('ed25519').privateKey,
    generateKeyPairSync('ec', { namedCurve: 'P-521' }).privateKey,
    generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey
  ]
  for (const key of others) {
    t.throws(() => keyAlgorithmOf(key), { code: 'ERR_SPIFFE_PKI_UNSUPPORTED_KEY' })
  }
})
