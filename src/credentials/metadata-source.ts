import { Backoff, type BackoffOptions } from '../internal/backoff.ts'
import { systemClock, type Clock } from '../internal/clock.ts'
import { quote } from '../internal/errors.ts'
import { SpiffeId } from '../spiffe/spiffe-id.ts'
import { X509Svid } from '../spiffe/x509-svid.ts'
import { assertConfigStatusClean } from './gce-files.ts'
import { MetadataClient } from './metadata-client.ts'
import { expectOk, parseTrustAnchors, parseWorkloadIdentities, trustAnchorsToBundles } from './metadata-documents.ts'
import { RefreshLoop } from './refresh-loop.ts'
import type { CredentialSource } from './credential-source.ts'
import type { CredentialStore } from './store.ts'
import type { CredentialCandidate } from './validate-credentials.ts'
import { BACKOFF_INITIAL_MS, METADATA_MIN_POLL_MS, METADATA_POLL_INTERVAL_MS } from '../defaults.ts'
import { credentialsError } from './errors.ts'

/** Options of {@link createMetadataSource}. */
export interface MetadataSourceOptions {
  /** Metadata root or the `…/gce-workload-certificates` base, e.g. `http://127.0.0.1:8181`. */
  url: string
  /** Poll interval (default 300 000 ms: Google recommends every 5 minutes). */
  pollIntervalMs?: number
  /** Per-request bound on waiting for headers and for body data (default 10 000 ms). */
  timeoutMs?: number
  clock?: Clock
  /** Retry timing after errors and 412; capped at the poll interval. */
  backoff?: BackoffOptions
}

/**
 * Returns the `metadata` source: polls the GCE metadata server's workload-certificate
 * endpoints (seed 003, "Access the workload credentials … using the metadata server"):
 * config-status first (its `partnerMetadataConfigsErrors` are surfaced as the error), then
 * workload-identities (certificate and key from the same response, the entry whose SPIFFE ID
 * equals the configured identity), then trust-anchors (one bundle per exactly-named domain).
 * It polls every `pollInterval`, or sooner when the SVID in force is due for rotation
 * ({@link rotationDelay}), whichever comes first.
 */
export function createMetadataSource (opts: MetadataSourceOptions): MetadataSource {
  return new MetadataSource(opts)
}

/** See {@link createMetadataSource}. */
export class MetadataSource implements CredentialSource {
  readonly name = 'metadata'
  readonly #opts: MetadataSourceOptions
  readonly #clock: Clock
  readonly #backoff: Backoff
  readonly #pollMs: number
  #client: MetadataClient | undefined
  #loop: RefreshLoop | undefined

  constructor (opts: MetadataSourceOptions) {
    this.#opts = opts
    this.#clock = opts.clock ?? systemClock
    this.#pollMs = opts.pollIntervalMs ?? METADATA_POLL_INTERVAL_MS
    this.#backoff = new Backoff({ initialMs: BACKOFF_INITIAL_MS, maxMs: this.#pollMs, ...opts.backoff })
  }

  async start (store: CredentialStore): Promise<void> {
    if (this.#loop !== undefined) throw credentialsError('ERR_SPIFFE_CREDENTIALS_STARTED', 'metadata source already started')
    const client = new MetadataClient(this.#opts.url, this.#opts.timeoutMs === undefined ? {} : { timeoutMs: this.#opts.timeoutMs })
    this.#client = client
    this.#loop = new RefreshLoop(this.#clock, async () => { await this.#poll(store, client) })
    await this.#loop.trigger()
  }

  async refresh (): Promise<void> {
    await this.#loop?.trigger()
  }

  async stop (): Promise<void> {
    const loop = this.#loop
    if (loop !== undefined && !loop.stopped) {
      // Close first so a request stuck on a slow server is aborted instead of awaited.
      const closing = this.#client?.close()
      await loop.stop()
      await closing
    }
    this.#loop?.cancel()
  }

  async #poll (store: CredentialStore, client: MetadataClient): Promise<void> {
    let candidate: CredentialCandidate | undefined
    let failure: unknown
    try {
      candidate = await this.#fetch(store, client)
    } catch (err) {
      failure = err
    }
    const loop = this.#loop
    // A request aborted by stop() is not a failure worth recording.
    if (loop === undefined || loop.stopped) return
    const outcome = candidate === undefined ? store.fail(this.name, failure) : store.offer(this.name, candidate)
    const current = store.current()
    const rotation = current === undefined ? this.#pollMs : rotationDelay(current.svid, this.#clock.now())
    const delay = Math.min(outcome.result === 'rejected' ? this.#backoff.next() : this.#pollMs, this.#pollMs, rotation)
    if (outcome.result !== 'rejected') this.#backoff.reset()
    store.setNextRefreshAt(this.#clock.now() + delay)
    loop.schedule(delay)
  }

  async #fetch (store: CredentialStore, client: MetadataClient): Promise<CredentialCandidate> {
    const status = await client.get('config-status')
    assertConfigStatusClean(expectOk(status), status.url)
    const ids = await client.get('workload-identities')
    const creds = parseWorkloadIdentities(expectOk(ids), ids.url)
    const mine = [...creds].find(([id]) => sameId(id, store.identity))
    if (mine === undefined) {
      throw credentialsError('ERR_SPIFFE_CREDENTIALS_IDENTITY_NOT_DELIVERED',
        `workload-identities has no credentials for ${quote(store.identity.toString())} (has ${[...creds.keys()].map((k) => quote(k)).join(', ') || 'none'})`,
        { at: ids.url })
    }
    const [, cred] = mine
    const svid = X509Svid.fromPem(cred.certificatePem, cred.privateKeyPem, `${ids.url} workloadCredentials`)
    const anchors = await client.get('trust-anchors')
    const bundles = trustAnchorsToBundles(parseTrustAnchors(expectOk(anchors), anchors.url), anchors.url)
    return { svid, bundles }
  }
}


/**
 * Returns how long to wait before polling for the successor of `svid` at `now`: until half its
 * lifetime has passed (the earliest the server rotates: `rotationWindowPercentage` is 50..80),
 * and once past that, half the time it has left, so several polls land before `notAfter` even
 * when the SVID lives shorter than `pollInterval`.
 */
export function rotationDelay (svid: { notBefore: number, notAfter: number }, now: number): number {
  const half = svid.notBefore + (svid.notAfter - svid.notBefore) / 2
  const wait = now < half ? half - now : (svid.notAfter - now) / 2
  return Math.max(METADATA_MIN_POLL_MS, Math.floor(wait))
}

function sameId (written: string, identity: SpiffeId): boolean {
  try {
    return SpiffeId.fromString(written).equals(identity)
  } catch {
    return false
  }
}
