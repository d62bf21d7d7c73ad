import type { X509Certificate } from 'node:crypto'
import type { X509BundleSource } from '../spiffe/source.ts'
import type { VerifiedSvid } from '../spiffe/verify-x509-svid.ts'
import { VERIFIED_PEERS_SIZE } from '../defaults.ts'
import { Lru } from '../internal/lru.ts'

interface Entry {
  readonly peer: VerifiedSvid
  readonly bundles: X509BundleSource
  /** The intersection of the validity periods of every certificate on the verified path (ms). */
  readonly notBefore: number
  readonly notAfter: number
}

/**
 * Verdicts of SPIFFE peer verification, keyed by the leaf certificate's SHA-256 fingerprint and
 * the exact bundle set they were reached with (docs/architecture.md#layers, hot path). A backend presents
 * the same leaf on every handshake until it rotates, and re-verifying it costs one signature
 * check per certificate on the path: the single largest cost of a handshake after the key
 * exchange. A hit is sound because the verdict is a pure function of the leaf's bytes, the bundles
 * and the time: the peer still proves possession of the leaf's key in every handshake
 * (CertificateVerify), a trust change publishes a new bundle set object (a miss), and the
 * validity of the whole path is checked against the current time on every hit. Only accepted
 * verdicts are cached; a rejected chain is verified again each time. Bounded LRU.
 */
export class VerifiedPeers {
  readonly #entries: Lru<string, Entry>

  constructor (max = VERIFIED_PEERS_SIZE) {
    this.#entries = new Lru(max)
  }

  /**
   * Returns the cached verdict for `leaf` under exactly `bundles`, when every certificate of the
   * verified path is valid at `now`; otherwise undefined (and an expired entry is dropped).
   */
  get (leafFingerprint: string, bundles: X509BundleSource, now: number): VerifiedSvid | undefined {
    const entry = this.#entries.get(leafFingerprint) // a hit becomes the most recently used
    if (entry === undefined) return undefined
    if (entry.bundles !== bundles || now < entry.notBefore || now > entry.notAfter) {
      this.#entries.delete(leafFingerprint)
      return undefined
    }
    return entry.peer
  }

  /**
   * Remembers an accepted verdict reached with `bundles`, good at most until `until` (the
   * earliest nextUpdate of the CRLs it was checked against: past it, the stale policy decides).
   */
  set (leafFingerprint: string, bundles: X509BundleSource, peer: VerifiedSvid, until = Infinity): void {
    let notBefore = -Infinity
    let notAfter = until
    for (const cert of peer.chain) {
      notBefore = Math.max(notBefore, validity(cert).from)
      notAfter = Math.min(notAfter, validity(cert).to)
    }
    this.#entries.set(leafFingerprint, { peer, bundles, notBefore, notAfter })
  }

  /** Forgets every verdict. */
  clear (): void { this.#entries.clear() }

  /** Number of cached verdicts. */
  get size (): number { return this.#entries.size }
}

function validity (cert: X509Certificate): { from: number, to: number } {
  return { from: cert.validFromDate.getTime(), to: cert.validToDate.getTime() }
}
