import { systemClock, type Clock } from '../internal/clock.ts'
import type { BundleSet } from '../spiffe/bundle-set.ts'
import type { SpiffeId } from '../spiffe/spiffe-id.ts'
import type { X509BundleSource, X509SvidSource } from '../spiffe/source.ts'
import type { X509SnapshotSource } from '../spiffe/snapshot.ts'
import type { TrustDomain } from '../spiffe/trust-domain.ts'
import type { X509Bundle } from '../spiffe/x509-bundle.ts'
import type { X509Svid } from '../spiffe/x509-svid.ts'
import { mergeTrustBundles } from './merge-bundles.ts'
import { CredentialSnapshot, bundlesFingerprint, svidFingerprint } from './credential-snapshot.ts'
import { validateCandidate, type CredentialCandidate } from './validate-credentials.ts'
import { credentialStatus, type CredentialStatus } from './credential-status.ts'
import { notifyAll } from '../internal/notify.ts'
import { toCredentialError, type AttemptOutcome, type CredentialError, type ReloadResult } from './outcome.ts'
import { credentialsError } from './errors.ts'
import { mergeRevocation, revocationFingerprint } from './revocation-set.ts'
import type { RevocationByDomain } from '../spiffe/revocation.ts'

export type { AttemptOutcome, CredentialError, ReloadResult } from './outcome.ts'

export interface CredentialStoreOptions {
  /** The SPIFFE ID the proxy must hold; any other ID is refused. */
  identity: SpiffeId
  /** `inlineTrustConfig.additionalTrustBundles`, merged into every delivered bundle set. */
  additionalTrustBundles?: BundleSet
  clock?: Clock
}

/**
 * Holds the proxy's current credentials and publishes a new {@link CredentialSnapshot}
 * atomically when a source delivers a candidate that passes {@link validateCandidate}.
 * A bad candidate never replaces the last good snapshot; it is recorded in {@link lastError}
 * and counted. Readers on the TLS hot path call {@link usable} (or {@link getX509Svid}) so that
 * an SVID is never presented past its expiry: fail closed, never fall back to a stale one.
 */
export class CredentialStore implements X509SnapshotSource, X509SvidSource, X509BundleSource {
  readonly identity: SpiffeId
  readonly clock: Clock
  #additional: BundleSet | undefined
  /** The last accepted candidate as delivered, before additionalTrustBundles were merged in. */
  #delivered: CredentialCandidate | undefined
  #current: CredentialSnapshot | undefined
  /** CRLs configured per trust domain (config, local CA pool), merged with delivered ones. */
  #revocation: RevocationByDomain | undefined
  #lastError: CredentialError | undefined
  #warnings: readonly CredentialError[] = []
  #nextRefreshAt: number | undefined
  readonly #listeners = new Set<(s: CredentialSnapshot) => void>()
  readonly #attemptListeners = new Set<(o: AttemptOutcome) => void>()
  readonly #counts: Record<ReloadResult, number> = { accepted: 0, unchanged: 0, rejected: 0 }
  readonly #errorCounts = new Map<string, number>()

  constructor (options: CredentialStoreOptions) {
    this.identity = options.identity
    this.clock = options.clock ?? systemClock
    this.#additional = options.additionalTrustBundles
  }

  /** Returns the snapshot in force (possibly expired: check {@link usable}), or undefined before the first. */
  current (): CredentialSnapshot | undefined { return this.#current }

  /** The last failed attempt, cleared by the next accepted or unchanged one. */
  get lastError (): CredentialError | undefined { return this.#lastError }

  /** The warnings of the credentials in force (configured trust domains the source overrode). */
  get warnings (): readonly CredentialError[] { return this.#warnings }

  /** When the source plans its next refresh (rotation or poll), for metrics; undefined if unknown. */
  get nextRefreshAt (): number | undefined { return this.#nextRefreshAt }

  /** Sources report their next planned refresh here. */
  setNextRefreshAt (at: number | undefined): void { this.#nextRefreshAt = at }

  /** Returns attempts counted by result (`credential reloads by result` metric). */
  counters (): Readonly<Record<ReloadResult, number>> { return { ...this.#counts } }

  /** Returns rejected attempts counted by error code. */
  errorCounts (): ReadonlyMap<string, number> { return new Map(this.#errorCounts) }

  /**
   * Returns true when the current snapshot may be used for a handshake at `now`: one exists and
   * its SVID is within its validity period. The TLS connector must refuse to connect (fail
   * closed) when this is false, even though {@link current} still returns the expired snapshot.
   */
  usable (now: number = this.clock.now()): boolean {
    return this.#current?.inDate(now) ?? false
  }

  /** Returns readiness for `/readyz`: ready only when {@link usable}, else why not. */
  status (now: number = this.clock.now()): CredentialStatus {
    return credentialStatus(this.#current, this.#lastError, now)
  }

  /** {@link X509SvidSource}: returns the SVID, or throws `ERR_SPIFFE_CREDENTIALS_NOT_READY` when not usable. */
  getX509Svid (): X509Svid {
    const now = this.clock.now()
    const snapshot = this.#current
    if (snapshot === undefined || !snapshot.inDate(now)) {
      const s = this.status(now)
      throw credentialsError('ERR_SPIFFE_CREDENTIALS_NOT_READY',
        `no usable svid: ${s.ready ? 'ready' : s.message}`)
    }
    return snapshot.svid
  }

  /** {@link X509BundleSource}: the current bundle of exactly `td`. */
  getBundleForTrustDomain (td: TrustDomain): X509Bundle | undefined {
    return this.#current?.bundles.getBundleForTrustDomain(td)
  }

  /** Calls `listener` after each published snapshot; returns the unsubscribe function. */
  subscribe (listener: (snapshot: CredentialSnapshot) => void): () => void {
    this.#listeners.add(listener)
    return () => { this.#listeners.delete(listener) }
  }

  /** Calls `listener` after every attempt, whatever its result (tests, logs). */
  onAttempt (listener: (outcome: AttemptOutcome) => void): () => void {
    this.#attemptListeners.add(listener)
    return () => { this.#attemptListeners.delete(listener) }
  }

  /** Runs `load` and offers its result; a throw is recorded as a rejected attempt. */
  async attempt (source: string, load: () => CredentialCandidate | Promise<CredentialCandidate>): Promise<AttemptOutcome> {
    let candidate: CredentialCandidate
    try {
      candidate = await load()
    } catch (err) {
      return this.fail(source, err)
    }
    return this.offer(source, candidate)
  }

  /**
   * Throws when `candidate` would be rejected by {@link offer}, without publishing or counting:
   * lets a source detect a half-rotated read and read again before reporting.
   */
  check (candidate: CredentialCandidate): void {
    const { bundles } = mergeTrustBundles(candidate.bundles, this.#additional, this.identity.trustDomain)
    validateCandidate({ svid: candidate.svid, bundles }, { identity: this.identity, now: this.clock.now() })
  }

  /**
   * Validates `candidate` (after merging additionalTrustBundles) and publishes it when it is
   * good and differs from the current snapshot. Generations only grow: `svidGeneration` moves
   * when the chain or key changed, `bundleGeneration` when any trust anchor changed.
   */
  offer (source: string, candidate: CredentialCandidate): AttemptOutcome {
    const now = this.clock.now()
    let bundles: BundleSet
    let warnings: CredentialError[]
    try {
      const merged = mergeTrustBundles(candidate.bundles, this.#additional, this.identity.trustDomain)
      bundles = merged.bundles
      warnings = merged.warnings.map((w) => toCredentialError(w, source, now))
      validateCandidate({ svid: candidate.svid, bundles }, { identity: this.identity, now })
    } catch (err) {
      return this.fail(source, err)
    }
    const svidFp = svidFingerprint(candidate.svid)
    const bundlesFp = bundlesFingerprint(bundles)
    const revocation = mergeRevocation(this.#revocation, candidate.crls)
    const revocationFp = revocationFingerprint(revocation)
    const prev = this.#current
    this.#delivered = candidate
    this.#warnings = warnings
    const sameTrust = prev?.bundlesFingerprint === bundlesFp && prev.revocationFingerprint === revocationFp
    if (prev !== undefined && prev.svidFingerprint === svidFp && sameTrust) {
      this.#lastError = undefined
      return this.#finish({ result: 'unchanged', source, snapshot: prev, ...(warnings.length === 0 ? {} : { warnings }) })
    }
    const next = new CredentialSnapshot({
      svid: candidate.svid,
      bundles,
      generation: (prev?.generation ?? 0) + 1,
      svidGeneration: (prev?.svidGeneration ?? 0) + (prev?.svidFingerprint === svidFp ? 0 : 1),
      bundleGeneration: (prev?.bundleGeneration ?? 0) + (sameTrust ? 0 : 1),
      source,
      loadedAt: now,
      svidFingerprint: svidFp,
      bundlesFingerprint: bundlesFp,
      revocation,
      revocationFingerprint: revocationFp
    })
    this.#current = next
    this.#lastError = undefined
    notifyAll(this.#listeners, next, 'credential store')
    return this.#finish({ result: 'accepted', source, snapshot: next, ...(warnings.length === 0 ? {} : { warnings }) })
  }

  /**
   * Replaces the configured additionalTrustBundles (a config reload) and re-publishes the
   * last delivered credentials merged with them, so a trust domain removed from the config is
   * distrusted at once (new bundleGeneration: TLS session caches keyed by it are bypassed).
   * When the new set cannot be merged, the previous set and snapshot stay and the returned
   * outcome says why.
   */
  setAdditionalTrustBundles (bundles: BundleSet | undefined): AttemptOutcome | undefined {
    const before = this.#additional
    this.#additional = bundles
    const delivered = this.#delivered
    if (delivered === undefined) return undefined
    const outcome = this.offer(this.#current?.source ?? 'config', delivered)
    if (outcome.result === 'rejected') this.#additional = before
    return outcome
  }

  /**
   * Replaces the configured CRLs per trust domain (config files and URLs, the local CA pool's
   * CRL) and re-publishes the last delivered credentials with them: a changed CRL moves
   * `bundleGeneration`, so cached sessions and pooled connections of that domain are re-checked.
   */
  setRevocation (revocation: RevocationByDomain | undefined): AttemptOutcome | undefined {
    this.#revocation = revocation
    const delivered = this.#delivered
    if (delivered === undefined) return undefined
    return this.offer(this.#current?.source ?? 'revocation', delivered)
  }

  /** Records a failed attempt from `source`; the current snapshot stays. */
  fail (source: string, err: unknown): AttemptOutcome {
    const error = toCredentialError(err, source, this.clock.now())
    this.#lastError = error
    this.#errorCounts.set(error.code, (this.#errorCounts.get(error.code) ?? 0) + 1)
    return this.#finish({ result: 'rejected', source, snapshot: this.#current, error })
  }

  #finish (outcome: AttemptOutcome): AttemptOutcome {
    this.#counts[outcome.result]++
    for (const listener of this.#attemptListeners) {
      try {
        listener(outcome)
      } catch (err) {
        process.emitWarning(`credential store attempt listener threw: ${String(err)}`, 'SpiffeLbWarning')
      }
    }
    return outcome
  }
}
