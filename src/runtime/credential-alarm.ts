import type { Clock, TimerHandle } from '../internal/clock.ts'
import type { IdentityCredentials } from './credentials-wiring.ts'
import { credentialProblems } from './owned-credentials.ts'

/** A running alarm; `stop` ends it. */
export interface CredentialAlarm { stop (): void }

/**
 * Reports when the proxy cannot present an SVID, and returns the running alarm: `onProblem`
 * gets every problem line at once (start-up included), after any attempt, and when an SVID's
 * `notAfter` passes without a replacement; `onRecovered` when all identities are usable again.
 * A problem is reported when it first appears, not on every attempt, so a source retrying a
 * missing directory does not flood the log while the failure stays loud.
 */
export function startCredentialAlarm (credentials: readonly IdentityCredentials[], clock: Clock, hooks: {
  onProblem: (line: string) => void
  onRecovered: () => void
}): CredentialAlarm {
  let reported = new Set<string>()
  let expiryTimer: TimerHandle | undefined
  let stopped = false
  const check = (): void => {
    if (stopped) return
    const now = clock.now()
    const problems = credentialProblems(credentials, now)
    for (const line of problems) if (!reported.has(line)) hooks.onProblem(line)
    if (problems.length === 0 && reported.size > 0) hooks.onRecovered()
    reported = new Set(problems)
    armExpiry(now)
  }
  const armExpiry = (now: number): void => {
    if (expiryTimer !== undefined) clock.clearTimeout(expiryTimer)
    expiryTimer = undefined
    const ends = credentials.flatMap((c) => {
      const snap = c.store.current()
      return snap !== undefined && snap.svid.notAfter >= now ? [snap.svid.notAfter] : []
    })
    if (ends.length === 0) return
    // One millisecond past notAfter: the SVID is valid through notAfter itself.
    expiryTimer = clock.setTimeout(check, Math.min(...ends) - now + 1)
  }
  const unsubscribe = credentials.map((c) => c.store.onAttempt(check))
  check()
  return {
    stop () {
      stopped = true
      for (const u of unsubscribe) u()
      if (expiryTimer !== undefined) clock.clearTimeout(expiryTimer)
    }
  }
}
