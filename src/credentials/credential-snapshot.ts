import { createHash } from 'node:crypto'
import type { BundleSet } from '../spiffe/bundle-set.ts'
import type { X509Snapshot } from '../spiffe/snapshot.ts'
import type { RevocationByDomain } from '../spiffe/revocation.ts'
import type { X509Svid } from '../spiffe/x509-svid.ts'

/**
 * One published, validated set of credentials: the proxy's X.509-SVID and the trust bundles
 * (one per trust domain) it verifies backends with. Immutable; a rotation publishes a new one.
 */
export class CredentialSnapshot implements X509Snapshot {
  readonly svid: X509Svid
  readonly bundles: BundleSet
  readonly generation: number
  readonly svidGeneration: number
  readonly bundleGeneration: number
  /** Name of the source that delivered it (`issuer`, `directory`, `metadata`, …). */
  readonly source: string
  /** When the store accepted it (ms since the epoch, from the store's clock). */
  readonly loadedAt: number
  /** sha256 over the chain DER and the PKCS#8 key: equal fingerprints mean the same SVID. */
  readonly svidFingerprint: string
  /** sha256 over every trust domain name and its anchors' fingerprints, sorted. */
  readonly bundlesFingerprint: string
  readonly revocation?: RevocationByDomain
  /** Fingerprint of `revocation` ('' for none): a change moves `bundleGeneration` too. */
  readonly revocationFingerprint: string

  constructor (init: {
    svid: X509Svid, bundles: BundleSet, generation: number, svidGeneration: number, bundleGeneration: number
    source: string, loadedAt: number, svidFingerprint: string, bundlesFingerprint: string
    revocation?: RevocationByDomain | undefined, revocationFingerprint?: string
  }) {
    this.svid = init.svid
    this.bundles = init.bundles
    this.generation = init.generation
    this.svidGeneration = init.svidGeneration
    this.bundleGeneration = init.bundleGeneration
    this.source = init.source
    this.loadedAt = init.loadedAt
    this.svidFingerprint = init.svidFingerprint
    this.bundlesFingerprint = init.bundlesFingerprint
    if (init.revocation !== undefined) this.revocation = init.revocation
    this.revocationFingerprint = init.revocationFingerprint ?? ''
    Object.freeze(this)
  }

  /** Returns true when `now` (ms) lies within the SVID leaf's validity period. */
  inDate (now: number): boolean {
    return now >= this.svid.notBefore && now <= this.svid.notAfter
  }
}

/** Returns the fingerprint identifying an SVID: its chain (DER) and its private key (PKCS#8 DER). */
export function svidFingerprint (svid: X509Svid): string {
  const h = createHash('sha256')
  for (const cert of svid.chain) h.update(cert.raw)
  h.update(svid.privateKey.export({ type: 'pkcs8', format: 'der' }))
  return h.digest('hex')
}

/** Returns the fingerprint of a bundle set: equal when every domain has the same anchors. */
export function bundlesFingerprint (bundles: BundleSet): string {
  const parts = [...bundles]
    .map((b) => `${b.trustDomain.name}=${[...b.fingerprints()].sort().join(',')}`)
    .sort()
  return createHash('sha256').update(parts.join('\n')).digest('hex')
}
