import type { Clock, TimerHandle } from '../internal/clock.ts'
import { notifyAll } from '../internal/notify.ts'
import type { X509Snapshot, X509SnapshotSource } from '../spiffe/snapshot.ts'
import { revocationKey } from '../spiffe/revocation.ts'

/**
 * A change of the credentials pooled backend connections were made under (docs/architecture.md#security-model): such connections must retire before their next request, whatever delivered
 * the change (config reload, file directory, metadata server, issuer, Workload API).
 */
export interface CredentialChange {
  /** The SVID presented changed (rotation) or expired: every pooled connection retires. */
  svid: boolean
  /** Trust domains whose bundle changed or was removed: connections to their backends retire. */
  trustDomains: ReadonlySet<string>
  /** One line for the log: what changed. */
  reason: string
  /** True when the change is the SVID in force passing its notAfter (not a new snapshot). */
  expired?: boolean
}

/** Something that announces {@link CredentialChange}s (a backend connector implements it). */
export interface CredentialChanges {
  /** Calls `listener` on every change that retires pooled connections; returns the unsubscribe function. */
  onCredentialChange (listener: (change: CredentialChange) => void): () => void
  /** Returns the notAfter (epoch ms) of the SVID in force, or undefined before the first snapshot. */
  svidNotAfter (): number | undefined
}

/**
 * Returns the trust domains whose bundle differs between `before` and `after` (added ones
 * excluded), or whose CRLs changed: a newly revoked backend must not keep a pooled connection.
 */
export function changedTrustDomains (before: X509Snapshot, after: X509Snapshot): Set<string> {
  const changed = new Set<string>()
  if (before.bundleGeneration === after.bundleGeneration) return changed
  for (const old of before.bundles) {
    const now = after.bundles.getBundleForTrustDomain(old.trustDomain)
    if (now === undefined || !now.equals(old)) changed.add(old.trustDomain.name)
  }
  const domains = new Set([...(before.revocation?.keys() ?? []), ...(after.revocation?.keys() ?? [])])
  for (const td of domains) {
    if (revocationKey(before.revocation?.get(td)) !== revocationKey(after.revocation?.get(td))) changed.add(td)
  }
  return changed
}

/** setTimeout's ceiling: longer waits are re-armed in steps (SVIDs may live 30 days). */
const MAX_TIMER_MS = 2 ** 31 - 1

/**
 * Follows `snapshots` and announces each change that must retire pooled connections: an SVID
 * rotation, a trust domain whose bundle changed or disappeared, and the SVID in force passing
 * its notAfter on `clock` (no snapshot announces an expiry, so a timer does). Returns the feed
 * and its `close`, which stops the subscription and the timer.
 */
export function watchCredentialChanges (snapshots: X509SnapshotSource, clock: Clock): CredentialChanges & { close (): void } {
  const listeners = new Set<(change: CredentialChange) => void>()
  let last = snapshots.current()
  let timer: TimerHandle | undefined
  const emit = (change: CredentialChange): void => { notifyAll(listeners, change, 'credential change') }
  const arm = (): void => {
    if (timer !== undefined) clock.clearTimeout(timer)
    timer = undefined
    const snapshot = last
    if (snapshot === undefined) return
    const left = snapshot.svid.notAfter - clock.now()
    if (left < 0) return // already expired when it arrived: nothing pooled was made with it
    timer = clock.setTimeout(() => {
      timer = undefined
      if (last !== snapshot) return
      if (clock.now() < snapshot.svid.notAfter) { arm(); return }
      emit({ svid: true, trustDomains: new Set(), reason: `svid ${snapshot.svid.id.toString()} expired`, expired: true })
    }, Math.min(left + 1, MAX_TIMER_MS))
    timer.unref()
  }
  const unsubscribe = snapshots.subscribe((next) => {
    const before = last
    last = next
    if (before === undefined) { arm(); return }
    const svid = before.svidGeneration !== next.svidGeneration
    const trustDomains = changedTrustDomains(before, next)
    if (svid) arm()
    if (!svid && trustDomains.size === 0) return
    const parts = [
      ...(svid ? [`svid rotated (generation ${next.svidGeneration})`] : []),
      ...(trustDomains.size === 0 ? [] : [`trust changed for ${[...trustDomains].join(', ')} (bundle generation ${next.bundleGeneration})`])
    ]
    emit({ svid, trustDomains, reason: parts.join('; ') })
  })
  arm()
  return {
    onCredentialChange (listener) {
      listeners.add(listener)
      return () => { listeners.delete(listener) }
    },
    svidNotAfter: () => last?.svid.notAfter,
    close () {
      unsubscribe()
      if (timer !== undefined) clock.clearTimeout(timer)
      timer = undefined
      listeners.clear()
    }
  }
}
