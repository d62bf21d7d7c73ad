import type { X509Certificate } from 'node:crypto'
import { watch, type FSWatcher } from 'node:fs'
import { basename, dirname } from 'node:path'
import { CRL_REFRESH_MAX_MS, CRL_RETRY_MS } from '../defaults.ts'
import type { Clock } from '../internal/clock.ts'
import { quote } from '../internal/errors.ts'
import type { RevocationOptions } from '../spiffe/revocation.ts'
import { crlEntryStatus, readCrlEntry, verifyCrlEntry, type CrlEntry, type CrlStatus, type DomainCrlInput } from './crl-entry.ts'
import type { CredentialStore } from './store.ts'
import { revocationFingerprint } from './revocation-set.ts'

export type { CrlStatus, DomainCrlInput } from './crl-entry.ts'

/**
 * Keeps the configured CRLs of each trust domain verified and in the credential store
 * (`store.setRevocation`): files are re-read when they change, urls fetched again before their
 * nextUpdate, and every CRL is verified again when the domain's bundle changes. A CRL that
 * cannot be read or verified keeps the last good one in force (until its nextUpdate, when the
 * domain's stale-CRL policy decides) and is reported by {@link status}.
 */
export class RevocationFeed {
  /** What this feed was opened with (a reload compares it with the new config's). */
  readonly inputs: readonly DomainCrlInput[]
  readonly #entries: CrlEntry[]
  readonly #store: CredentialStore
  readonly #clock: Clock
  readonly #warn: (message: string) => void
  readonly #watchers: FSWatcher[] = []
  #bundlesFp: string | undefined
  #published = ''
  #unsubscribe: (() => void) | undefined
  #stopped = false

  constructor (inputs: readonly DomainCrlInput[], store: CredentialStore, opts: { clock: Clock, warn?: (message: string) => void }) {
    this.inputs = inputs
    this.#store = store
    this.#clock = opts.clock
    this.#warn = opts.warn ?? (() => {})
    this.#entries = inputs.flatMap((input) => [
      ...input.files.map((f) => ({ input, source: f, kind: 'file' as const })),
      ...input.urls.map((u) => ({ input, source: u, kind: 'url' as const }))
    ])
  }

  /**
   * Reads every CRL once and puts them in force; throws the first read or verification error
   * (serve refuses to start on a CRL it cannot use: fail closed). A CRL whose domain has no
   * bundle yet waits for one. Then follows changes until {@link stop}.
   */
  async start (): Promise<void> {
    await this.load()
    this.follow()
  }

  /**
   * Reads and verifies every CRL without putting anything in force (a reload checks the new
   * CRLs before it commits); throws the first error, as {@link start}.
   */
  async load (): Promise<void> {
    for (const e of this.#entries) {
      await this.#read(e)
      if (e.error !== undefined && (e.bytes === undefined || this.#bundleOf(e) !== undefined)) throw e.thrown
    }
  }

  /** Puts the loaded CRLs in force and follows changes (files, urls, bundles) until {@link stop}. */
  follow (): void {
    this.#publish()
    this.#bundlesFp = this.#store.current()?.bundlesFingerprint
    this.#unsubscribe = this.#store.subscribe((s) => {
      if (s.bundlesFingerprint === this.#bundlesFp) return
      this.#bundlesFp = s.bundlesFingerprint
      void this.#reverifyAll()
    })
    for (const dir of new Set(this.#entries.filter((e) => e.kind === 'file').map((e) => dirname(e.source)))) {
      // Writers replace the file by a rename (ca revoke does): watch the directory, not the inode.
      const w = watch(dir, { persistent: false }, (_event, name) => {
        for (const e of this.#entries) {
          if (e.kind === 'file' && dirname(e.source) === dir && (name === null || name === basename(e.source))) void this.#refresh(e)
        }
      })
      w.on('error', () => {})
      this.#watchers.push(w)
    }
    for (const e of this.#entries) {
      this.#warnIfStale(e)
      this.#schedule(e)
    }
  }

  /** Returns the state of every configured CRL, by trust domain and source. */
  status (): CrlStatus[] {
    const now = this.#clock.now()
    return this.#entries.map((e) => crlEntryStatus(e, now))
  }

  /** Stops watching files and fetching urls. */
  stop (): void {
    this.#stopped = true
    this.#unsubscribe?.()
    for (const w of this.#watchers) w.close()
    for (const e of this.#entries) if (e.timer !== undefined) this.#clock.clearTimeout(e.timer)
  }

  #bundleOf (e: CrlEntry): readonly X509Certificate[] | undefined {
    return this.#store.current()?.bundles.get(e.input.trustDomain)?.authorities
  }

  async #refresh (e: CrlEntry): Promise<void> {
    if (this.#stopped) return
    await this.#read(e)
    this.#publish()
    this.#schedule(e)
  }

  async #reverifyAll (): Promise<void> {
    for (const e of this.#entries) if (e.bytes !== undefined) await this.#verify(e, e.bytes)
    this.#publish()
  }

  async #read (e: CrlEntry): Promise<void> {
    await readCrlEntry(e, () => this.#bundleOf(e))
  }

  async #verify (e: CrlEntry, bytes: Buffer): Promise<void> {
    await verifyCrlEntry(e, bytes, this.#bundleOf(e))
  }

  /** Puts the good CRLs of every domain in force, when they differ from those published last. */
  #publish (): void {
    if (this.#stopped) return
    const byDomain = new Map<string, RevocationOptions>()
    for (const e of this.#entries) {
      const seen = byDomain.get(e.input.trustDomain) ?? { lists: [], staleCrl: e.input.staleCrl }
      byDomain.set(e.input.trustDomain, { ...seen, lists: e.good === undefined ? seen.lists : [...seen.lists, e.good] })
    }
    const fp = revocationFingerprint(byDomain)
    if (fp === this.#published) return
    this.#published = fp
    this.#store.setRevocation(byDomain)
  }

  /**
   * Arms the entry's next look: a url before its CRL's nextUpdate (at most CRL_REFRESH_MAX_MS,
   * CRL_RETRY_MS after a failure); a file at its nextUpdate (watching catches earlier changes),
   * where a CRL still stale is reported, and warned about under the fail-open policy.
   */
  #schedule (e: CrlEntry): void {
    if (this.#stopped) return
    if (e.timer !== undefined) this.#clock.clearTimeout(e.timer)
    e.timer = undefined
    const now = this.#clock.now()
    const good = e.good
    const next = good?.nextUpdate
    let wait: number
    if (e.kind === 'url') {
      // Before 80 % of the CRL's validity has passed; past that point, every CRL_RETRY_MS.
      const due = good === undefined || next === undefined ? Infinity : good.thisUpdate + (next - good.thisUpdate) * 0.8 - now
      wait = e.error !== undefined || due <= 0 ? CRL_RETRY_MS : Math.min(CRL_REFRESH_MAX_MS, due)
    } else {
      if (next === undefined || next < now) return // a change of the file is seen by the watcher
      wait = next - now + 1
    }
    e.timer = this.#clock.setTimeout(() => {
      e.timer = undefined
      void this.#refresh(e).then(() => { this.#warnIfStale(e) })
    }, Math.min(wait, 2 ** 31 - 1))
    e.timer.unref()
  }

  /** Warns once per CRL that is past its nextUpdate: the domain's stale policy now decides. */
  #warnIfStale (e: CrlEntry): void {
    const good = e.good
    if (good?.nextUpdate === undefined || this.#clock.now() <= good.nextUpdate || e.warned === good) return
    e.warned = good
    this.#warn(`crl ${quote(e.source)} of trust domain ${quote(e.input.trustDomain)} is stale (nextUpdate ${new Date(good.nextUpdate).toISOString()}): ${e.input.staleCrl === 'fail-open' ? 'its backends are still admitted (fail open)' : 'its backends are rejected (fail closed)'}`)
  }
}
