import { Backoff, type BackoffOptions } from '../internal/backoff.ts'
import { systemClock, type Clock } from '../internal/clock.ts'
import { quote } from '../internal/errors.ts'
import { issueSvidCertificate, type CertificateAuthority, type KeyAlgorithm } from '../pki/index.ts'
import { BundleSet } from '../spiffe/bundle-set.ts'
import { X509Bundle } from '../spiffe/x509-bundle.ts'
import { X509Svid } from '../spiffe/x509-svid.ts'
import { RefreshLoop } from './refresh-loop.ts'
import type { CredentialSource } from './credential-source.ts'
import type { CredentialStore } from './store.ts'
import { credentialsError } from './errors.ts'
import { ROTATION_JITTER_FRACTION } from '../defaults.ts'

/** What the issuer asks to be signed. */
export interface IssueRequest {
  uri: string
  keyAlgorithm: KeyAlgorithm
  notBefore: number
  lifetimeMs: number
}

/** Options of {@link createIssuerSource}; the CIC fields mirror `inlineCertificateIssuanceConfig`. */
export interface IssuerSourceOptions {
  /** The CA of the pool's CIC (or a function that opens it, e.g. from the state directory). */
  ca: CertificateAuthority | (() => CertificateAuthority | Promise<CertificateAuthority>)
  /** Attestation check run before every issuance; throws to refuse (config's `checkAttestation`). */
  attest: () => void
  /** CIC `lifetime` in ms (86400s by default in the config). */
  lifetimeMs: number
  /** CIC `rotationWindowPercentage` (50..80): re-issue when this share of the lifetime has passed. */
  rotationWindowPercentage: number
  /** CIC `keyAlgorithm` of the SVID's key. */
  keyAlgorithm: KeyAlgorithm
  /** Bundles delivered with the SVID; default: the own trust domain with the CA's root. */
  trustBundles?: (ca: CertificateAuthority) => BundleSet | Promise<BundleSet>
  /** Replaces the signing step (tests inject broken material); default signs with `ca`. */
  issue?: (req: IssueRequest, ca: CertificateAuthority) => Promise<{ chainPem: string, keyPem: string }>
  clock?: Clock
  /** Uniform random in [0, 1) for the rotation jitter; default Math.random. */
  random?: () => number
  /** Largest rotation jitter as a share of the lifetime (default 0.02), added after the window. */
  jitterFraction?: number
  /** Retry timing after a refused attestation or a failed issuance. */
  backoff?: BackoffOptions
}

/** Returns when a certificate issued at `issuedAt` should be replaced (ms since the epoch). */
export function rotationTime (issuedAt: number, notAfter: number, opts: {
  lifetimeMs: number, rotationWindowPercentage: number, jitterFraction: number, random: () => number
}): number {
  const at = issuedAt + opts.lifetimeMs * opts.rotationWindowPercentage / 100 +
    opts.random() * opts.jitterFraction * opts.lifetimeMs
  // Never plan past expiry: jitter is small, but a short CA-clamped lifetime could push it over.
  return Math.min(Math.round(at), notAfter)
}

/**
 * Returns the `issuer` source: the proxy signs its own SVID with the pool's local CA, after the
 * attestation check, as the cloud does for a backend service's managed identity. It re-issues
 * when `rotationWindowPercentage` of the lifetime has passed (plus small jitter, so proxies
 * sharing a CA spread out), on the injected clock. Failures retry with back-off.
 */
export function createIssuerSource (opts: IssuerSourceOptions): IssuerSource {
  return new IssuerSource(opts)
}

/** See {@link createIssuerSource}. */
export class IssuerSource implements CredentialSource {
  readonly name = 'issuer'
  readonly #opts: IssuerSourceOptions
  readonly #clock: Clock
  readonly #random: () => number
  readonly #backoff: Backoff
  #store: CredentialStore | undefined
  #loop: RefreshLoop | undefined
  /** When the current SVID is due for rotation, if one was issued. */
  #rotateAt: number | undefined

  constructor (opts: IssuerSourceOptions) {
    if (!(opts.rotationWindowPercentage > 0 && opts.rotationWindowPercentage < 100)) {
      throw credentialsError('ERR_SPIFFE_CREDENTIALS_ROTATION_WINDOW',
        `rotation window ${quote(opts.rotationWindowPercentage)} is not a percentage between 0 and 100`)
    }
    this.#opts = opts
    this.#clock = opts.clock ?? systemClock
    this.#random = opts.random ?? Math.random
    this.#backoff = new Backoff({ initialMs: 1000, maxMs: Math.max(1000, opts.lifetimeMs / 10), ...opts.backoff, random: this.#random })
  }

  /** When the current SVID will be re-issued (ms since the epoch), or undefined. */
  get rotateAt (): number | undefined { return this.#rotateAt }

  async start (store: CredentialStore): Promise<void> {
    if (this.#loop !== undefined) throw credentialsError('ERR_SPIFFE_CREDENTIALS_STARTED', 'issuer source already started')
    this.#store = store
    this.#loop = new RefreshLoop(this.#clock, async () => { await this.#issueOnce(store) })
    await this.#loop.trigger()
  }

  async refresh (): Promise<void> {
    await this.#loop?.trigger()
  }

  async stop (): Promise<void> {
    await this.#loop?.stop()
    this.#store?.setNextRefreshAt(undefined)
  }

  async #issueOnce (store: CredentialStore): Promise<void> {
    const issuedAt = this.#clock.now()
    const outcome = await store.attempt(this.name, async () => {
      this.#opts.attest()
      const ca = typeof this.#opts.ca === 'function' ? await this.#opts.ca() : this.#opts.ca
      const req: IssueRequest = {
        uri: store.identity.toString(),
        keyAlgorithm: this.#opts.keyAlgorithm,
        notBefore: issuedAt,
        lifetimeMs: this.#opts.lifetimeMs
      }
      const issued = this.#opts.issue !== undefined ? await this.#opts.issue(req, ca) : await issueSvidCertificate(ca, req)
      const svid = X509Svid.fromPem(issued.chainPem, issued.keyPem, 'issuer')
      const bundles = this.#opts.trustBundles !== undefined
        ? await this.#opts.trustBundles(ca)
        : BundleSet.of([X509Bundle.fromPem(store.identity.trustDomain, ca.rootPem, 'issuer ca root')])
      return { svid, bundles }
    })
    const loop = this.#loop
    if (loop === undefined || loop.stopped) return
    if (outcome.result === 'rejected') {
      const delay = this.#backoff.next()
      store.setNextRefreshAt(this.#clock.now() + delay)
      loop.schedule(delay)
      return
    }
    this.#backoff.reset()
    const svid = outcome.snapshot?.svid
    if (svid === undefined) return
    this.#rotateAt = rotationTime(issuedAt, svid.notAfter, {
      lifetimeMs: this.#opts.lifetimeMs,
      rotationWindowPercentage: this.#opts.rotationWindowPercentage,
      jitterFraction: this.#opts.jitterFraction ?? ROTATION_JITTER_FRACTION,
      random: this.#random
    })
    store.setNextRefreshAt(this.#rotateAt)
    loop.schedule(Math.max(0, this.#rotateAt - this.#clock.now()))
  }
}
