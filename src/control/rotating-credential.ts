import { X509Certificate } from 'node:crypto'
import type { Clock, TimerHandle } from '../internal/clock.ts'
import { MINUTE_MS } from '../defaults.ts'

/** PEM material as the metadata server hands it out. */
export interface IssuedPem { chainPem: string, keyPem: string }

/** What the control plane asks its CA for; `notBefore` lets a fault produce an expired cert. */
export interface IssueParams { notBefore: number, lifetimeMs: number }

/** One issued credential and when it was issued. */
export interface CurrentCredential extends IssuedPem { issuedAt: number, serial: number }

/** Rotation policy of the emulated control plane (the CIC's lifetime and window). */
export interface RotationPolicy { lifetimeMs: number, rotationWindowPercentage: number }

/**
 * Keeps one credential current the way Compute Engine does for a VM: issue, then issue again
 * when `rotationWindowPercentage` of the lifetime has passed; on failure retry after a tenth
 * of the lifetime (at most a minute). Timers come from the injected clock.
 */
export class RotatingCredential {
  readonly #issue: (p: IssueParams) => Promise<IssuedPem>
  readonly #policy: RotationPolicy
  readonly #clock: Clock
  readonly #onError: (err: unknown) => void
  readonly #onIssued: ((c: CurrentCredential) => void) | undefined
  #current: CurrentCredential | undefined
  #timer: TimerHandle | undefined
  #inflight: Promise<void> | undefined
  #serial = 0
  #nextRotationAt: number | undefined
  #stopped = false

  /** `onIssued` is called with each newly served credential (push-style servers send it on). */
  constructor (opts: { issue: (p: IssueParams) => Promise<IssuedPem>, policy: RotationPolicy, clock: Clock, onError: (err: unknown) => void, onIssued?: (c: CurrentCredential) => void }) {
    this.#issue = opts.issue
    this.#policy = opts.policy
    this.#clock = opts.clock
    this.#onError = opts.onError
    this.#onIssued = opts.onIssued
  }

  /** The credential being served, or undefined before the first issuance succeeded. */
  current (): CurrentCredential | undefined { return this.#current }

  /** When the next issuance is planned (ms since the epoch). */
  get nextRotationAt (): number | undefined { return this.#nextRotationAt }

  /** Issues after `delayMs` and keeps rotating. */
  start (delayMs = 0): void {
    if (delayMs > 0) this.#schedule(delayMs)
    else this.#run().catch(() => {})
  }

  /** Issues now (waits for an issuance in flight first); resolves when done. */
  async rotateNow (): Promise<void> {
    await this.#inflight
    await this.#run()
  }

  /** Issues material with other parameters without serving it (e.g. an expired certificate fault). */
  async issueExtra (p: IssueParams): Promise<IssuedPem> {
    return await this.#issue(p)
  }

  /** Stops rotating and waits for an issuance in flight. */
  async stop (): Promise<void> {
    this.#stopped = true
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer)
    this.#timer = undefined
    await this.#inflight
  }

  #schedule (delayMs: number): void {
    if (this.#stopped) return
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer)
    this.#nextRotationAt = this.#clock.now() + delayMs
    const handle = this.#clock.setTimeout(() => {
      if (this.#timer === handle) this.#timer = undefined
      this.#run().catch(() => {})
    }, delayMs)
    handle.unref()
    this.#timer = handle
  }

  async #run (): Promise<void> {
    if (this.#stopped) return
    const run = (async () => {
      const issuedAt = this.#clock.now()
      try {
        const pem = await this.#issue({ notBefore: issuedAt, lifetimeMs: this.#policy.lifetimeMs })
        if (this.#stopped) return
        const current = { ...pem, issuedAt, serial: ++this.#serial }
        this.#current = current
        this.#schedule(Math.max(0, rotationDue(pem.chainPem, issuedAt, this.#policy) - this.#clock.now()))
        this.#onIssued?.(current)
      } catch (err) {
        this.#onError(err)
        this.#schedule(Math.min(MINUTE_MS, Math.max(100, this.#policy.lifetimeMs / 10)))
      }
    })()
    this.#inflight = run
    await run
    if (this.#inflight === run) this.#inflight = undefined
  }
}

/**
 * Returns when the credential issued at `issuedAt` is due for rotation: `rotationWindowPercentage`
 * of the leaf's actual validity period (X.509 times have one-second resolution, which matters
 * when tests compress the lifetime to seconds), or of the policy lifetime if the PEM is unreadable.
 */
export function rotationDue (chainPem: string, issuedAt: number, policy: RotationPolicy): number {
  let from = issuedAt
  let span = policy.lifetimeMs
  try {
    const leaf = new X509Certificate(chainPem)
    from = leaf.validFromDate.getTime()
    span = leaf.validToDate.getTime() - from
  } catch {}
  return from + span * policy.rotationWindowPercentage / 100
}
