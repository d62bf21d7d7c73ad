import type { X509Certificate } from 'node:crypto'
import { watch, type FSWatcher } from 'node:fs'
import { basename, dirname } from 'node:path'
import { CRL_REFRESH_MAX_MS, CRL_RETRY_MS } from '../defaults.ts'
import type { Clock, TimerHandle } from '../internal/clock.ts'
import { isSpiffeLbError, quote } from '../internal/errors.ts'
import { loadCrl } from '../pki/crl.ts'
import { normalizeSerial, type RevocationList, type RevocationOptions, type StaleCrlPolicy } from '../spiffe/revocation.ts'
import { readCrlBytes } from './crl-read.ts'
import type { CredentialStore } from './store.ts'
import { revocationFingerprint } from './revocation-set.ts'
import type { CredentialsErrorCode } from './errors.ts'

/** Where the CRLs of one trust domain come from, and what a stale one means. */
export interface DomainCrlInput {
  trustDomain: string
  /** CRL files (PEM or DER), re-read when they change. */
  files: readonly string[]
  /** CRL urls, fetched with undici and again before their nextUpdate. */
  urls: readonly string[]
  staleCrl: StaleCrlPolicy
  /**
   * CA certificates that may sign these CRLs besides the domain's bundle authorities: the local
   * CA pool's issuing CA (a subordinate is not in the bundle). A CRL nobody trusted signed is refused.
   */
  issuers?: readonly X509Certificate[]
  /** A missing file is no CRL rather than an error (the local CA pool's, before any `ca revoke`). */
  optional?: boolean
}

/** What `/status` shows about one CRL: its source, validity, size, and its last error. */
export interface CrlStatus {
  trustDomain: string
  source: string
  staleCrl: StaleCrlPolicy
  thisUpdate?: string
  nextUpdate?: string
  revoked?: number
  /** True past the nextUpdate of the CRL in force. */
  stale?: boolean
  lastError?: { code: string, message: string }
}

interface Entry {
  input: DomainCrlInput
  source: string
  kind: 'file' | 'url'
  bytes?: Buffer | undefined
  good?: RevocationList | undefined
  error?: { code: string, message: string } | undefined
  /** The error object behind `error`, rethrown by `start`. */
  thrown?: unknown
  timer?: TimerHandle | undefined
  /** The stale CRL last warned about (once each). */
  warned?: RevocationList
}

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
  readonly #entries: Entry[]
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
    return this.#entries.map((e) => ({
      trustDomain: e.input.trustDomain,
      source: e.source,
      staleCrl: e.input.staleCrl,
      ...(e.good === undefined
        ? {}
        : {
            thisUpdate: new Date(e.good.thisUpdate).toISOString(),
            ...(e.good.nextUpdate === undefined ? {} : { nextUpdate: new Date(e.good.nextUpdate).toISOString() }),
            revoked: e.good.revokedSerials.size,
            stale: e.good.nextUpdate !== undefined && now > e.good.nextUpdate
          }),
      ...(e.error === undefined ? {} : { lastError: e.error })
    }))
  }

  /** Stops watching files and fetching urls. */
  stop (): void {
    this.#stopped = true
    this.#unsubscribe?.()
    for (const w of this.#watchers) w.close()
    for (const e of this.#entries) if (e.timer !== undefined) this.#clock.clearTimeout(e.timer)
  }

  #bundleOf (e: Entry): readonly X509Certificate[] | undefined {
    return this.#store.current()?.bundles.get(e.input.trustDomain)?.authorities
  }

  async #refresh (e: Entry): Promise<void> {
    if (this.#stopped) return
    await this.#read(e)
    this.#publish()
    this.#schedule(e)
  }

  async #reverifyAll (): Promise<void> {
    for (const e of this.#entries) if (e.bytes !== undefined) await this.#verify(e, e.bytes)
    this.#publish()
  }

  async #read (e: Entry): Promise<void> {
    let bytes: Buffer
    try {
      bytes = await readCrlBytes(e.kind, e.source)
    } catch (err) {
      const missing = ((err as { cause?: NodeJS.ErrnoException }).cause)?.code === 'ENOENT'
      if (missing && e.input.optional === true) { e.error = undefined; e.good = undefined; e.bytes = undefined; return }
      e.error = errorOf(err)
      e.thrown = err
      return
    }
    e.bytes = bytes
    await this.#verify(e, bytes)
  }

  async #verify (e: Entry, bytes: Buffer): Promise<void> {
    const anchors = this.#bundleOf(e)
    if (anchors === undefined) {
      e.error = { code: 'ERR_SPIFFE_CREDENTIALS_CRL_NO_BUNDLE' satisfies CredentialsErrorCode, message: `crl ${quote(e.source)} waits for a bundle of trust domain ${quote(e.input.trustDomain)} to verify it` }
      return
    }
    try {
      const crl = await loadCrl(bytes, e.source, [...anchors, ...(e.input.issuers ?? [])])
      e.good = {
        issuerFingerprint: crl.issuer.fingerprint256,
        revokedSerials: new Set(crl.revokedSerials.map(normalizeSerial)),
        thisUpdate: crl.thisUpdate,
        nextUpdate: crl.nextUpdate,
        source: e.source
      }
      e.error = undefined
    } catch (err) {
      e.error = errorOf(err)
      e.thrown = err
    }
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
  #schedule (e: Entry): void {
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
  #warnIfStale (e: Entry): void {
    const good = e.good
    if (good?.nextUpdate === undefined || this.#clock.now() <= good.nextUpdate || e.warned === good) return
    e.warned = good
    this.#warn(`crl ${quote(e.source)} of trust domain ${quote(e.input.trustDomain)} is stale (nextUpdate ${new Date(good.nextUpdate).toISOString()}): ${e.input.staleCrl === 'open' ? 'its backends are still admitted (fail open)' : 'its backends are rejected (fail closed)'}`)
  }
}

function errorOf (err: unknown): { code: string, message: string } {
  return isSpiffeLbError(err) ? { code: err.code, message: err.message } : { code: 'ERR_SPIFFE_CREDENTIALS_CRL_UNREADABLE' satisfies CredentialsErrorCode, message: err instanceof Error ? err.message : String(err) }
}
