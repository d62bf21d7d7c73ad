import { X509Certificate, createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto'
import { isSpiffeLbError, quote, withContext } from '../internal/errors.ts'
import { describeContent } from '../internal/content-summary.ts'
import { parsePem, toPem } from '../internal/pem.ts'
import type { SpiffeId } from './spiffe-id.ts'
import { checkLeafProfile, svidIdOf } from './svid-leaf.ts'
import { spiffeError, type SpiffeErrorCode } from './errors.ts'

function fail (code: SpiffeErrorCode, message: string, at: string): never {
  throw spiffeError(code, message, { at })
}

/**
 * An X.509-SVID with its private key: what a workload presents. The leaf must satisfy the
 * static X.509-SVID leaf profile (one SPIFFE ID URI SAN with a path, CA false, key usage),
 * and the key must be the leaf's key.
 * https://github.com/spiffe/spiffe/blob/main/standards/X509-SVID.md
 */
export class X509Svid {
  readonly id: SpiffeId
  /** Leaf first, then the intermediates to send (normally no root). */
  readonly chain: readonly X509Certificate[]
  readonly leaf: X509Certificate
  readonly privateKey: KeyObject
  /** Leaf validity bounds, ms since the epoch. */
  readonly notBefore: number
  readonly notAfter: number

  /**
   * Returns the SVID of `chain` (leaf first) and `privateKey`. Throws
   * `ERR_SPIFFE_SVID_NO_CERTIFICATE`, `ERR_SPIFFE_SVID_KEY_MISMATCH`, or the leaf rule broken
   * (`ERR_SPIFFE_SVID_*`); `source` names where they came from.
   */
  constructor (chain: readonly X509Certificate[], privateKey: KeyObject, source = 'svid') {
    const leaf = chain[0]
    if (leaf === undefined) fail('ERR_SPIFFE_SVID_NO_CERTIFICATE', 'x.509-svid chain holds no certificate', source)
    if (privateKey.type !== 'private') fail('ERR_SPIFFE_SVID_NO_PRIVATE_KEY', `x.509-svid key is a ${privateKey.type} key, not a private key`, source)
    const spki = (k: KeyObject): Buffer => k.export({ type: 'spki', format: 'der' })
    const id = withSource(source, () => svidIdOf(leaf))
    if (!spki(createPublicKey(privateKey)).equals(spki(leaf.publicKey))) {
      fail('ERR_SPIFFE_SVID_KEY_MISMATCH', `private key does not match the public key of x.509-svid ${quote(id.toString())}`, source)
    }
    withSource(source, () => { checkLeafProfile(leaf, id) })
    this.id = id
    this.chain = Object.freeze([...chain])
    this.leaf = leaf
    this.privateKey = privateKey
    this.notBefore = leaf.validFromDate.getTime()
    this.notAfter = leaf.validToDate.getTime()
  }

  /**
   * Returns the SVID in `chainPem` (CERTIFICATE blocks, leaf first; other blocks ignored)
   * and `keyPem` (exactly one unencrypted private key block: PKCS#8, SEC1 or PKCS#1).
   * Throws `ERR_SPIFFE_PEM_*`, `ERR_SPIFFE_SVID_NO_CERTIFICATE`, `ERR_SPIFFE_SVID_BAD_CERTIFICATE`,
   * `ERR_SPIFFE_SVID_NO_PRIVATE_KEY`, `ERR_SPIFFE_SVID_MULTIPLE_PRIVATE_KEYS`,
   * `ERR_SPIFFE_SVID_BAD_PRIVATE_KEY`, `ERR_SPIFFE_SVID_ENCRYPTED_PRIVATE_KEY`,
   * `ERR_SPIFFE_SVID_NOT_PEM` (non-blank text without any PEM block), `ERR_SPIFFE_SVID_KEY_MISMATCH`
   * or a leaf rule.
   */
  static fromPem (chainPem: string, keyPem: string, source = 'svid'): X509Svid {
    const chainBlocks = parsePem(chainPem, source)
    notGarbage(chainPem, chainBlocks.length, 'chain', source)
    const certBlocks = chainBlocks.filter((b) => b.type === 'CERTIFICATE')
    if (certBlocks.length === 0) {
      fail('ERR_SPIFFE_SVID_NO_CERTIFICATE', `x.509-svid chain holds no "CERTIFICATE" pem block (${describeContent(chainPem)})`, source)
    }
    const chain = certBlocks.map((b, i) => {
      try {
        return new X509Certificate(b.der)
      } catch (err) {
        return fail('ERR_SPIFFE_SVID_BAD_CERTIFICATE', `x.509-svid chain certificate ${i + 1} is not a valid x.509 certificate: ${(err as Error).message}`, source)
      }
    })
    const allKeyBlocks = parsePem(keyPem, source)
    notGarbage(keyPem, allKeyBlocks.length, 'key', source)
    const keyBlocks = allKeyBlocks.filter((b) => b.type.endsWith('PRIVATE KEY'))
    if (keyBlocks.length === 0) fail('ERR_SPIFFE_SVID_NO_PRIVATE_KEY', `x.509-svid key holds no private key pem block (${describeContent(keyPem)})`, source)
    if (keyBlocks.length > 1) {
      fail('ERR_SPIFFE_SVID_MULTIPLE_PRIVATE_KEYS', `x.509-svid key holds ${keyBlocks.length} private keys; exactly one is required`, source)
    }
    const block = keyBlocks[0] as { type: string, der: Buffer }
    if (block.type === 'ENCRYPTED PRIVATE KEY') {
      fail('ERR_SPIFFE_SVID_ENCRYPTED_PRIVATE_KEY', 'x.509-svid private key is encrypted ("ENCRYPTED PRIVATE KEY"); encrypted keys are not supported', source)
    }
    let key: KeyObject
    try {
      key = createPrivateKey(toPem(block.type, block.der))
    } catch (err) {
      return fail('ERR_SPIFFE_SVID_BAD_PRIVATE_KEY', `x.509-svid ${quote(block.type)} block is not a valid private key: ${(err as Error).message}`, source)
    }
    return new X509Svid(chain, key, source)
  }

  /** Returns the chain as PEM, leaf first. */
  chainPem (): string { return this.chain.map((c) => toPem('CERTIFICATE', c.raw)).join('') }

  /** Returns the private key as PKCS#8 PEM. */
  privateKeyPem (): string { return this.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string }
}

function notGarbage (text: string, blocks: number, what: string, source: string): void {
  if (blocks === 0 && text.trim() !== '') {
    fail('ERR_SPIFFE_SVID_NOT_PEM', `x.509-svid ${what} is not pem (${describeContent(text)})`, source)
  }
}

function withSource<T> (source: string, fn: () => T): T {
  try {
    return fn()
  } catch (err) {
    if (!isSpiffeLbError(err) || err.at !== undefined) throw err
    throw withContext(err, err.message, { at: source, cause: err.cause })
  }
}
