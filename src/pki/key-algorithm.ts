import { generateKeyPair, type KeyObject, type webcrypto } from 'node:crypto'
import { promisify } from 'node:util'
import { quote } from '../internal/errors.ts'
import { pkiError } from './errors.ts'

const generateKeyPairAsync = promisify(generateKeyPair)

/**
 * The key algorithms a workload identity pool may ask for (`inlineCertificateIssuanceConfig.
 * keyAlgorithm`). ECDSA keys sign with SHA-256 (P-256) or SHA-384 (P-384); RSA keys sign with
 * PKCS#1 v1.5 and SHA-256.
 */
export type KeyAlgorithm = 'ECDSA_P256' | 'ECDSA_P384' | 'RSA_2048' | 'RSA_3072' | 'RSA_4096'

/** Every {@link KeyAlgorithm}, the default (`ECDSA_P256`) first. */
export const KEY_ALGORITHMS: readonly KeyAlgorithm[] = ['ECDSA_P256', 'ECDSA_P384', 'RSA_2048', 'RSA_3072', 'RSA_4096']

/** The default key algorithm of managed workload identity certificates and of our CAs. */
export const DEFAULT_KEY_ALGORITHM: KeyAlgorithm = 'ECDSA_P256'

/** gcloud privateca `--key-algorithm` names, mapped to ours. */
export const GCLOUD_KEY_ALGORITHMS: Readonly<Record<string, KeyAlgorithm>> = {
  'ec-p256-sha256': 'ECDSA_P256',
  'ec-p384-sha384': 'ECDSA_P384',
  'rsa-pkcs1-2048-sha256': 'RSA_2048',
  'rsa-pkcs1-3072-sha256': 'RSA_3072',
  'rsa-pkcs1-4096-sha256': 'RSA_4096'
}

/**
 * Returns the {@link KeyAlgorithm} named by `s`: one of ours (`ECDSA_P256`) or a gcloud CA key
 * algorithm (`ec-p256-sha256`). Throws `ERR_SPIFFE_PKI_UNKNOWN_KEY_ALGORITHM` listing the
 * valid names otherwise.
 */
export function parseKeyAlgorithm (s: string): KeyAlgorithm {
  const ours = KEY_ALGORITHMS.find((a) => a === s)
  if (ours !== undefined) return ours
  const gcloud = Object.hasOwn(GCLOUD_KEY_ALGORITHMS, s) ? GCLOUD_KEY_ALGORITHMS[s] : undefined
  if (gcloud !== undefined) return gcloud
  const valid = [...KEY_ALGORITHMS, ...Object.keys(GCLOUD_KEY_ALGORITHMS)].join(', ')
  throw pkiError('ERR_SPIFFE_PKI_UNKNOWN_KEY_ALGORITHM',
    `key algorithm ${quote(s)} is not one of ${valid}`)
}

/** Returns true for the RSA algorithms (their leaf certificates may also allow keyEncipherment). */
export function isRsa (alg: KeyAlgorithm): boolean {
  return alg.startsWith('RSA_')
}

/** A generated key pair as node KeyObjects. */
export interface KeyPair { publicKey: KeyObject, privateKey: KeyObject }

/** Returns a fresh key pair of `alg` (asynchronous: RSA 4096 takes about a second). */
export async function generateKeys (alg: KeyAlgorithm = DEFAULT_KEY_ALGORITHM): Promise<KeyPair> {
  switch (alg) {
    case 'ECDSA_P256': return await generateKeyPairAsync('ec', { namedCurve: 'P-256' })
    case 'ECDSA_P384': return await generateKeyPairAsync('ec', { namedCurve: 'P-384' })
    case 'RSA_2048': return await generateKeyPairAsync('rsa', { modulusLength: 2048 })
    case 'RSA_3072': return await generateKeyPairAsync('rsa', { modulusLength: 3072 })
    case 'RSA_4096': return await generateKeyPairAsync('rsa', { modulusLength: 4096 })
  }
}

/**
 * Returns the {@link KeyAlgorithm} of a public or private key. Throws
 * `ERR_SPIFFE_PKI_UNSUPPORTED_KEY` for any other key (Ed25519, P-521, RSA-PSS, odd RSA sizes).
 */
export function keyAlgorithmOf (key: KeyObject): KeyAlgorithm {
  const details = key.asymmetricKeyDetails ?? {}
  if (key.asymmetricKeyType === 'ec') {
    if (details.namedCurve === 'prime256v1') return 'ECDSA_P256'
    if (details.namedCurve === 'secp384r1') return 'ECDSA_P384'
  }
  if (key.asymmetricKeyType === 'rsa') {
    if (details.modulusLength === 2048) return 'RSA_2048'
    if (details.modulusLength === 3072) return 'RSA_3072'
    if (details.modulusLength === 4096) return 'RSA_4096'
  }
  const what = `${key.asymmetricKeyType ?? key.type} ${details.namedCurve ?? details.modulusLength ?? ''}`.trim()
  throw pkiError('ERR_SPIFFE_PKI_UNSUPPORTED_KEY',
    `key ${quote(what)} is not one of ${KEY_ALGORITHMS.join(', ')}`)
}

/** Returns the WebCrypto parameters a key of `alg` signs certificates with. */
export function signatureParams (alg: KeyAlgorithm): webcrypto.EcdsaParams | webcrypto.RsaHashedImportParams {
  switch (alg) {
    case 'ECDSA_P256': return { name: 'ECDSA', hash: 'SHA-256' }
    case 'ECDSA_P384': return { name: 'ECDSA', hash: 'SHA-384' }
    default: return { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }
  }
}

/** Returns `privateKey` as a WebCrypto signing key for {@link signatureParams}. */
export function toSigningKey (privateKey: KeyObject): webcrypto.CryptoKey {
  const alg = keyAlgorithmOf(privateKey)
  const params = alg === 'ECDSA_P256'
    ? { name: 'ECDSA', namedCurve: 'P-256' }
    : alg === 'ECDSA_P384' ? { name: 'ECDSA', namedCurve: 'P-384' } : { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }
  return privateKey.toCryptoKey(params, false, ['sign'])
}

/** Returns a private key as PKCS#8 PEM. */
export function privateKeyPem (privateKey: KeyObject): string {
  return privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()
}
