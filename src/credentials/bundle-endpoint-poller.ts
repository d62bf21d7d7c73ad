import { FEDERATION_MAX_REFRESH_MS, FEDERATION_MIN_REFRESH_MS, FEDERATION_REFRESH_MS } from '../defaults.ts'
import { Backoff } from '../internal/backoff.ts'
import type { Clock, TimerHandle } from '../internal/clock.ts'
import { quote } from '../internal/errors.ts'
import { X509Bundle } from '../spiffe/x509-bundle.ts'
import type { BundleEndpointTarget, BundleFetcher } from './bundle-endpoint-client.ts'
import { credentialsError } from './errors.ts'
import { toCredentialError, type CredentialError } from './outcome.ts'

/** What `/status` shows of one federated trust domain. */
export interface FederatedBundleStatus {
  trustDomain: string
  endpoint: string
  profile: BundleEndpointTarget['profile']
  /** `pending` (never fetched), `fresh` (last fetch good), `stale` (last fetch failed, bundle kept), `withdrawn` (past its max age). */
  state: 'pending' | 'fresh' | 'stale' | 'withdrawn'
  lastFetchAt?: number
  lastSuccessAt?: number
  sequence?: number
  refreshHintMs: number
  nextFetchAt?: number
  lastError?: CredentialError
}

/** Options of {@link BundleEndpointPoller}. */
export interface BundleEndpointPollerOptions {
  target: BundleEndpointTarget
  /** Fetches the endpoint's bundle document ({@link bundleEndpointFetcher}; tests inject their own). */
  fetch: BundleFetcher
  /** https_spiffe: the bundle of the endpoint ID's trust domain, used until a fetched one replaces it. */
  bootstrapBundle?: X509Bundle
  /** How long the last good bundle stays in force without a successful fetch. */
  maxBundleAgeMs: number
  /** Called with the domain's new bundle, or undefined when it is withdrawn. */
  onChange: (bundle: X509Bundle | undefined) => void
  /** Called with each failed fetch (the last good bundle stays). */
  onError?: (error: CredentialError) => void
  clock: Clock
  /** For the retry back-off's jitter (tests: deterministic). */
  random?: () => number
}

/** Returns `spiffe_refresh_hint` (seconds) as the poll interval in ms, clamped; the default when absent. */
export function refreshIntervalMs (hintSeconds: unknown): number {
  if (typeof hintSeconds !== 'number') return FEDERATION_REFRESH_MS
  return Math.min(FEDERATION_MAX_REFRESH_MS, Math.max(FEDERATION_MIN_REFRESH_MS, hintSeconds * 1000))
}

/**
 * Keeps one federated trust domain's bundle current from its SPIFFE bundle endpoint
 * (SPIFFE Federation §5, Trust Domain and Bundle §4.1): polls at the bundle's
 * `spiffe_refresh_hint` (clamped), refuses a `spiffe_sequence` lower than the last accepted one
 * (`ERR_SPIFFE_CREDENTIALS_BUNDLE_SEQUENCE_BACKWARDS`), and keeps the last good bundle on any
 * failure, retrying with back-off, until `maxBundleAgeMs` after the last good fetch: then the
 * domain is withdrawn (fail closed) until a fetch succeeds again. Reports every new bundle, and
 * the withdrawal, through `onChange`. An https_spiffe endpoint of the federated domain itself
 * is authenticated with the latest fetched bundle, else with the bootstrap bundle (§5.2.2).
 * https://github.com/spiffe/spiffe/blob/main/standards/SPIFFE_Federation.md#5-serving-and-consuming-a-spiffe-bundle-endpoint
 */
export class BundleEndpointPoller {
  readonly #opts: BundleEndpointPollerOptions
  readonly #backoff: Backoff
  #bundle: X509Bundle | undefined
  #sequence: number | undefined
  #refreshMs = FEDERATION_REFRESH_MS
  #lastFetchAt: number | undefined
  #lastSuccessAt: number | undefined
  #lastError: CredentialError | undefined
  #withdrawn = false
  #nextFetchAt: number | undefined
  #pollTimer: TimerHandle | undefined
  #expiryTimer: TimerHandle | undefined
  #inFlight: Promise<void> | undefined
  #stopped = false

  constructor (opts: BundleEndpointPollerOptions) {
    this.#opts = opts
    this.#backoff = new Backoff({ maxMs: FEDERATION_REFRESH_MS, ...(opts.random === undefined ? {} : { random: opts.random }) })
  }

  /** The domain's bundle in force, or undefined (never fetched, or withdrawn). */
  get bundle (): X509Bundle | undefined { return this.#bundle }

  /** Fetches once now and keeps polling; resolves after that first fetch, whatever its result. */
  async start (): Promise<void> { await this.refresh() }

  /** Fetches now (SIGHUP, tests); joins a fetch already running. Resolves when it finished. */
  async refresh (): Promise<void> {
    if (this.#stopped) return
    this.#inFlight ??= this.#poll().finally(() => { this.#inFlight = undefined })
    await this.#inFlight
  }

  /** Stops polling and the max-age timer; idempotent. The bundle in force stays readable. */
  stop (): void {
    this.#stopped = true
    this.#clear()
    if (this.#expiryTimer !== undefined) this.#opts.clock.clearTimeout(this.#expiryTimer)
    this.#expiryTimer = undefined
  }

  /** Returns the domain's state for `/status`. */
  status (): FederatedBundleStatus {
    const { target } = this.#opts
    const state = this.#withdrawn ? 'withdrawn' : this.#lastSuccessAt === undefined ? 'pending' : this.#lastError === undefined ? 'fresh' : 'stale'
    return {
      trustDomain: target.trustDomain.name,
      endpoint: target.url,
      profile: target.profile,
      state,
      refreshHintMs: this.#refreshMs,
      ...(this.#lastFetchAt === undefined ? {} : { lastFetchAt: this.#lastFetchAt }),
      ...(this.#lastSuccessAt === undefined ? {} : { lastSuccessAt: this.#lastSuccessAt }),
      ...(this.#sequence === undefined ? {} : { sequence: this.#sequence }),
      ...(this.#nextFetchAt === undefined ? {} : { nextFetchAt: this.#nextFetchAt }),
      ...(this.#lastError === undefined ? {} : { lastError: this.#lastError })
    }
  }

  async #poll (): Promise<void> {
    const { clock, target } = this.#opts
    this.#clear()
    this.#lastFetchAt = clock.now()
    let bundle: X509Bundle
    let sequence: number | undefined
    try {
      const doc = await this.#opts.fetch(this.#endpointBundle())
      bundle = X509Bundle.fromJwks(target.trustDomain, doc, target.url)
      const fields = doc as { spiffe_sequence?: number, spiffe_refresh_hint?: number }
      sequence = fields.spiffe_sequence
      if (sequence !== undefined && this.#sequence !== undefined && sequence < this.#sequence) {
        throw credentialsError('ERR_SPIFFE_CREDENTIALS_BUNDLE_SEQUENCE_BACKWARDS',
          `bundle of trust domain ${quote(target.trustDomain.name)} from ${quote(target.url)} has spiffe_sequence ${sequence}, lower than the ${this.#sequence} already accepted; the last good bundle stays`, { at: target.url })
      }
      this.#refreshMs = refreshIntervalMs(fields.spiffe_refresh_hint)
    } catch (err) {
      if (this.#stopped) return
      const error = toCredentialError(err, `bundle endpoint ${target.trustDomain.name}`, clock.now())
      // While withdrawn, the status keeps saying so, with the newest reason.
      this.#lastError = this.#withdrawn ? this.#withdrawnError(error) : error
      this.#schedule(Math.min(this.#backoff.next(), this.#refreshMs))
      this.#opts.onError?.(this.#lastError)
      return
    }
    if (this.#stopped) return
    this.#backoff.reset()
    this.#lastError = undefined
    this.#lastSuccessAt = clock.now()
    if (sequence !== undefined) this.#sequence = sequence
    this.#armExpiry()
    const changed = this.#bundle === undefined || !this.#bundle.equals(bundle)
    this.#bundle = bundle
    this.#withdrawn = false
    this.#schedule(this.#refreshMs)
    if (changed) this.#opts.onChange(bundle)
  }

  #endpointBundle (): X509Bundle | undefined {
    const { target, bootstrapBundle } = this.#opts
    if (target.profile !== 'https_spiffe') return undefined
    const fetched = this.#bundle
    return fetched !== undefined && target.endpointSpiffeId.trustDomain.equals(target.trustDomain) ? fetched : bootstrapBundle
  }

  #schedule (ms: number): void {
    if (this.#stopped) return
    const { clock } = this.#opts
    this.#nextFetchAt = clock.now() + ms
    this.#pollTimer = clock.setTimeout(() => { this.#pollTimer = undefined; void this.refresh() }, ms)
    this.#pollTimer.unref()
  }

  #clear (): void {
    if (this.#pollTimer !== undefined) this.#opts.clock.clearTimeout(this.#pollTimer)
    this.#pollTimer = undefined
    this.#nextFetchAt = undefined
  }

  #armExpiry (): void {
    const { clock, maxBundleAgeMs } = this.#opts
    if (this.#expiryTimer !== undefined) clock.clearTimeout(this.#expiryTimer)
    const fetchedAt = this.#lastSuccessAt ?? clock.now()
    this.#expiryTimer = clock.setTimeout(() => {
      this.#expiryTimer = undefined
      if (this.#stopped || this.#lastSuccessAt !== fetchedAt) return
      this.#withdrawn = true
      this.#bundle = undefined
      this.#lastError = this.#withdrawnError(this.#lastError)
      this.#opts.onChange(undefined)
    }, maxBundleAgeMs)
    this.#expiryTimer.unref()
  }

  #withdrawnError (last: CredentialError | undefined): CredentialError {
    const { clock, maxBundleAgeMs, target } = this.#opts
    return toCredentialError(credentialsError('ERR_SPIFFE_CREDENTIALS_BUNDLE_WITHDRAWN',
      `trust domain ${quote(target.trustDomain.name)} withdrawn: no good fetch from ${quote(target.url)} for ${maxBundleAgeMs / 1000}s (maxBundleAge)` +
      (last === undefined ? '' : `; last error ${last.code}: ${last.message}`), { at: target.url }), `bundle endpoint ${target.trustDomain.name}`, clock.now())
  }
}
