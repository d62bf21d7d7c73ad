import type { X509Certificate } from 'node:crypto'
import { MAX_CACHED_SESSIONS } from '../defaults.ts'
import { Lru } from '../internal/lru.ts'

/** A TLS client session worth resuming, plus what was verified when it was established. */
export interface CachedSession {
  /** The serialized session from the socket's `'session'` event. */
  readonly session: Buffer
  /** The chain the backend presented in the full handshake (re-verified on every resumption). */
  readonly chain: readonly X509Certificate[]
  /** SHA-256 fingerprint of the chain's leaf: the key of its cached verdict, computed once. */
  readonly leafFingerprint?: string
  /** `performance.now()` when stored (absent = long ago): a resumed connection refreshes only an older entry. */
  readonly storedAt?: number
}

/**
 * The backend connector's client session cache (docs/architecture.md#security-model, session resumption).
 * Entries are keyed by endpoint AND by the SVID and trust-bundle generations they were made
 * under, so after a rotation or a trust change no lookup can find an old session: Node skips
 * peer checks on resumed sessions, and a session made under old trust must never be resumed.
 * `advance()` also drops stale entries eagerly so they do not linger until evicted.
 */
export class SessionCache {
  readonly #entries: Lru<string, CachedSession>
  #svidGeneration = -1
  #bundleGeneration = -1

  constructor (max = MAX_CACHED_SESSIONS) {
    this.#entries = new Lru(max)
  }

  /** Returns the cache key of `endpoint` (`servername@host:port`) under the given generations. */
  static key (endpoint: string, svidGeneration: number, bundleGeneration: number): string {
    return `${endpoint}#s${svidGeneration}#b${bundleGeneration}`
  }

  /** Records the generations in force; entries made under any other generation are dropped. */
  advance (svidGeneration: number, bundleGeneration: number): void {
    if (svidGeneration === this.#svidGeneration && bundleGeneration === this.#bundleGeneration) return
    this.#svidGeneration = svidGeneration
    this.#bundleGeneration = bundleGeneration
    const suffix = `#s${svidGeneration}#b${bundleGeneration}`
    for (const key of [...this.#entries.keys()]) {
      if (!key.endsWith(suffix)) this.#entries.delete(key)
    }
  }

  /** Returns the session for `endpoint` under the given generations, or undefined. */
  get (endpoint: string, svidGeneration: number, bundleGeneration: number): CachedSession | undefined {
    return this.#entries.peek(SessionCache.key(endpoint, svidGeneration, bundleGeneration))
  }

  /**
   * Stores `entry`; ignored (returns false) when the generations are no longer the ones in force,
   * e.g. a TLS 1.3 ticket that arrives after a rotation.
   */
  set (endpoint: string, svidGeneration: number, bundleGeneration: number, entry: CachedSession): boolean {
    if (svidGeneration !== this.#svidGeneration || bundleGeneration !== this.#bundleGeneration) return false
    const key = SessionCache.key(endpoint, svidGeneration, bundleGeneration)
    this.#entries.set(key, entry)
    return true
  }

  /** Removes the session for `endpoint` under the given generations (after a failed use). */
  delete (endpoint: string, svidGeneration: number, bundleGeneration: number): void {
    this.#entries.delete(SessionCache.key(endpoint, svidGeneration, bundleGeneration))
  }

  /** Removes every session. */
  clear (): void {
    this.#entries.clear()
  }

  /** Number of cached sessions. */
  get size (): number { return this.#entries.size }
}
