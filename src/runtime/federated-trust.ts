import type { Logger } from 'pino'
import type { BundleEndpointConfig } from '../config/types.ts'
import { bundleEndpointFetcher } from '../credentials/bundle-endpoint-client.ts'
import { BundleEndpointPoller, type FederatedBundleStatus } from '../credentials/bundle-endpoint-poller.ts'
import type { CredentialStore } from '../credentials/store.ts'
import type { Clock } from '../internal/clock.ts'
import { BundleSet } from '../spiffe/bundle-set.ts'

/**
 * The trust a store takes from its pool's config: the inline `additionalTrustBundles` plus the
 * bundles fetched from the pool's bundle endpoints (one poller per federated domain). Every
 * fetched change (a new bundle, a withdrawal) goes through the store's
 * `setAdditionalTrustBundles`, the path a config reload takes, so the domain's trust
 * generation moves and its pooled and resumed connections are re-checked.
 */
export class FederatedTrust {
  readonly #clock: Clock
  readonly #log: Logger | undefined
  #inline: BundleSet
  #pollers = new Map<string, { key: string, poller: BundleEndpointPoller }>()
  #store: CredentialStore | undefined

  private constructor (inline: BundleSet, clock: Clock, log: Logger | undefined) {
    this.#inline = inline
    this.#clock = clock
    this.#log = log
  }

  /**
   * Returns the trust of a pool with `endpoints` polled: resolves after each endpoint's first
   * fetch, whatever its result, so a reachable partner is trusted from the first snapshot.
   */
  static async open (inline: BundleSet, endpoints: readonly BundleEndpointConfig[], clock: Clock, log?: Logger): Promise<FederatedTrust> {
    const trust = new FederatedTrust(inline, clock, log)
    await trust.#configure(endpoints)
    return trust
  }

  /** The inline bundles and every fetched bundle in force, one per domain. */
  bundles (): BundleSet {
    const fetched = [...this.#pollers.values()].flatMap(({ poller }) => poller.bundle === undefined ? [] : [poller.bundle])
    return BundleSet.of([...this.#inline, ...fetched])
  }

  /** Routes every later change to `store` (the store was made with {@link bundles}). */
  attach (store: CredentialStore): void { this.#store = store }

  /** Returns each federated domain's endpoint state, for `/status`. */
  status (): FederatedBundleStatus[] { return [...this.#pollers.values()].map(({ poller }) => poller.status()) }

  /**
   * Applies a reloaded pool: new inline bundles, pollers started for new or changed endpoints,
   * stopped for removed ones, and every kept endpoint fetched again (SIGHUP tries now).
   */
  async reconfigure (inline: BundleSet, endpoints: readonly BundleEndpointConfig[]): Promise<void> {
    this.#inline = inline
    await this.#configure(endpoints)
    this.#apply()
  }

  /** Stops every poller. */
  stop (): void {
    for (const { poller } of this.#pollers.values()) poller.stop()
  }

  async #configure (endpoints: readonly BundleEndpointConfig[]): Promise<void> {
    const next = new Map<string, { key: string, poller: BundleEndpointPoller }>()
    const starts: Array<Promise<void>> = []
    for (const endpoint of endpoints) {
      const td = endpoint.trustDomain.name
      const key = endpointKey(endpoint)
      const kept = this.#pollers.get(td)
      if (kept?.key === key) {
        next.set(td, kept)
        starts.push(kept.poller.refresh())
        continue
      }
      let lastLogged: string | undefined
      const poller: BundleEndpointPoller = new BundleEndpointPoller({
        target: endpoint,
        fetch: bundleEndpointFetcher(endpoint),
        ...(endpoint.profile === 'https_spiffe' ? { bootstrapBundle: endpoint.bootstrapBundle } : {}),
        maxBundleAgeMs: endpoint.maxBundleAgeMs,
        clock: this.#clock,
        onChange: (bundle) => {
          if (bundle === undefined) this.#log?.warn({ trustDomain: td, endpoint: endpoint.url, code: poller.status().lastError?.code, reason: poller.status().lastError?.message }, 'federated trust domain withdrawn')
          else this.#log?.info({ trustDomain: td, endpoint: endpoint.url, sequence: poller.status().sequence ?? null }, 'federated bundle changed')
          this.#apply()
        },
        onError: (err) => {
          // Retries repeat the same failure: logged once until a good fetch or another failure.
          const key = `${err.code}\0${err.message}\0${poller.status().lastSuccessAt ?? ''}`
          if (key === lastLogged) return
          lastLogged = key
          this.#log?.warn({ trustDomain: td, endpoint: endpoint.url, code: err.code, reason: err.message }, 'bundle endpoint fetch failed; the last good bundle stays')
        }
      })
      next.set(td, { key, poller })
      starts.push(poller.start())
    }
    for (const [td, { poller }] of this.#pollers) if (next.get(td)?.poller !== poller) poller.stop()
    this.#pollers = next
    await Promise.all(starts)
  }

  #apply (): void {
    const outcome = this.#store?.setAdditionalTrustBundles(this.bundles())
    if (outcome?.result === 'rejected') {
      this.#log?.warn({ code: outcome.error?.code, reason: outcome.error?.message }, 'federated bundles refused by the credential store; the last good trust stays')
    }
  }
}

/** Returns what identifies an endpoint's configuration: a changed one gets a fresh poller. */
function endpointKey (e: BundleEndpointConfig): string {
  const auth = e.profile === 'https_web' ? e.caPem ?? '' : `${e.endpointSpiffeId.toString()}|${e.bootstrapBundle.fingerprints().join(',')}`
  return `${e.url}|${e.profile}|${e.maxBundleAgeMs}|${auth}`
}
