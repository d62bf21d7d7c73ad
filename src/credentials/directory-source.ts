import { watch, type FSWatcher } from 'node:fs'
import { basename, dirname } from 'node:path'
import { Backoff, type BackoffOptions } from '../internal/backoff.ts'
import { systemClock, type Clock, type TimerHandle } from '../internal/clock.ts'
import { readCredentialDirectory } from './read-directory.ts'
import { RefreshLoop } from './refresh-loop.ts'
import type { CredentialSource } from './credential-source.ts'
import type { CredentialStore } from './store.ts'
import type { CredentialCandidate } from './validate-credentials.ts'
import { DIRECTORY_DEBOUNCE_MS, DIRECTORY_POLL_INTERVAL_MS, RESTART_BACKOFF_INITIAL_MS, RESTART_BACKOFF_MAX_MS, DIRECTORY_REREAD_DELAY_MS } from '../defaults.ts'
import { credentialsError } from './errors.ts'

/** Options of {@link createDirectorySource}. */
export interface DirectorySourceOptions {
  /** The credential directory, e.g. `/var/run/secrets/workload-spiffe-credentials`. */
  dir: string
  /** Watch the directory and its parent with fs.watch (default true). */
  watch?: boolean
  /** Quiet time after the last file event before reading (default 100 ms). */
  debounceMs?: number
  /** Fallback poll, for file systems without events (default 60 000 ms; 0 = never). */
  pollIntervalMs?: number
  /** Pause before the one re-read of an inconsistent directory (default 50 ms). */
  rereadDelayMs?: number
  clock?: Clock
  backoff?: BackoffOptions
}

/**
 * Returns the `directory` source: reads the GCE guest-agent layout and follows its rotation.
 * The agent swaps a symlink to a new timestamped directory (an event in the parent), other
 * writers rename files in place one by one (events in the directory), so both are watched;
 * events are debounced and a poll backs up lost events. A read that is not consistent (key of
 * one rotation, chain of another, half-written file) is read once more before it is reported.
 */
export function createDirectorySource (opts: DirectorySourceOptions): DirectorySource {
  return new DirectorySource(opts)
}

/** See {@link createDirectorySource}. */
export class DirectorySource implements CredentialSource {
  readonly name = 'directory'
  readonly #opts: DirectorySourceOptions
  readonly #clock: Clock
  readonly #backoff: Backoff
  #loop: RefreshLoop | undefined
  #debounce: TimerHandle | undefined
  #parentWatcher: FSWatcher | undefined
  #dirWatcher: FSWatcher | undefined
  #watchedTarget: string | undefined

  constructor (opts: DirectorySourceOptions) {
    this.#opts = opts
    this.#clock = opts.clock ?? systemClock
    this.#backoff = new Backoff({ initialMs: RESTART_BACKOFF_INITIAL_MS, maxMs: RESTART_BACKOFF_MAX_MS, ...opts.backoff })
  }

  async start (store: CredentialStore): Promise<void> {
    if (this.#loop !== undefined) throw credentialsError('ERR_SPIFFE_CREDENTIALS_STARTED', 'directory source already started')
    this.#loop = new RefreshLoop(this.#clock, async () => { await this.#reload(store) })
    await this.#loop.trigger()
  }

  async refresh (): Promise<void> {
    await this.#loop?.trigger()
  }

  async stop (): Promise<void> {
    if (this.#debounce !== undefined) this.#clock.clearTimeout(this.#debounce)
    this.#debounce = undefined
    await this.#loop?.stop()
    this.#closeWatchers()
  }

  async #reload (store: CredentialStore): Promise<void> {
    let target: string | undefined
    const outcome = await store.attempt(this.name, async () => {
      const read = await this.#readConsistent(store)
      target = read.target
      return read
    })
    const loop = this.#loop
    if (loop === undefined || loop.stopped) return
    if (this.#opts.watch !== false) this.#watch(target)
    const poll = this.#opts.pollIntervalMs ?? DIRECTORY_POLL_INTERVAL_MS
    if (outcome.result === 'rejected') {
      const delay = this.#backoff.next()
      loop.schedule(poll > 0 ? Math.min(delay, poll) : delay)
    } else {
      this.#backoff.reset()
      if (poll > 0) loop.schedule(poll)
    }
  }

  /** Reads, checks with the store's rules, and reads once more if that failed. */
  async #readConsistent (store: CredentialStore): Promise<CredentialCandidate & { target: string }> {
    const own = store.identity.trustDomain
    try {
      const first = await readCredentialDirectory(this.#opts.dir, own)
      store.check(first)
      return first
    } catch {
      // Also for a missing directory: resolving the symlink while the agent swaps it and
      // deletes the old target can fail once (realpath is not atomic).
      await this.#sleep(this.#opts.rereadDelayMs ?? DIRECTORY_REREAD_DELAY_MS)
      return await readCredentialDirectory(this.#opts.dir, own)
    }
  }

  async #sleep (ms: number): Promise<void> {
    await new Promise<void>((resolve) => { this.#clock.setTimeout(resolve, ms) })
  }

  #onEvent (): void {
    if (this.#loop === undefined || this.#loop.stopped) return
    if (this.#debounce !== undefined) this.#clock.clearTimeout(this.#debounce)
    const handle = this.#clock.setTimeout(() => {
      if (this.#debounce === handle) this.#debounce = undefined
      this.#loop?.trigger().catch(() => {})
    }, this.#opts.debounceMs ?? DIRECTORY_DEBOUNCE_MS)
    handle.unref()
    this.#debounce = handle
  }

  /** (Re)creates the watchers: the parent once, the directory whenever its target moved. */
  #watch (target: string | undefined): void {
    const dir = this.#opts.dir
    if (this.#parentWatcher === undefined) {
      const name = basename(dir)
      this.#parentWatcher = this.#tryWatch(dirname(dir), (f) => { if (f === null || f === name) this.#onEvent() },
        () => { this.#parentWatcher = undefined })
    }
    if (target !== undefined && target !== this.#watchedTarget) {
      this.#dirWatcher?.close()
      this.#dirWatcher = this.#tryWatch(dir, () => { this.#onEvent() }, () => { this.#dirWatcher = undefined; this.#watchedTarget = undefined })
      this.#watchedTarget = this.#dirWatcher === undefined ? undefined : target
    }
  }

  #tryWatch (path: string, onChange: (file: string | null) => void, onGone: () => void): FSWatcher | undefined {
    let w: FSWatcher
    try {
      w = watch(path, { persistent: false }, (_event, file) => { onChange(file) })
    } catch {
      return undefined // not there yet; the next reload (poll or back-off) tries again
    }
    // A watched directory that is deleted (the agent removes old targets) errors or closes.
    w.on('error', () => { w.close(); onGone(); this.#onEvent() })
    return w
  }

  #closeWatchers (): void {
    this.#parentWatcher?.close()
    this.#dirWatcher?.close()
    this.#parentWatcher = undefined
    this.#dirWatcher = undefined
    this.#watchedTarget = undefined
  }
}
