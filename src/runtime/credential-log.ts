import type { Logger } from 'pino'
import type { AttemptOutcome, CredentialError, CredentialStore } from '../credentials/store.ts'
import type { CredentialSnapshot } from '../credentials/credential-snapshot.ts'
import { CREDENTIALS_ERROR } from '../credentials/errors.ts'

/**
 * Logs what happens to `store`'s credentials, each event once: a rejected update at `warn`
 * with its code, place and reason (the last good credentials stay), repeated failures with the
 * same reason only once until something else happens; an SVID or trust change at `info` with
 * what changed (the credentials already loaded are logged first, as `svid loaded`). Messages come from coded errors, which never quote file contents. Returns the
 * unsubscribe function.
 */
export function logCredentialChanges (store: CredentialStore, log: Logger): () => void {
  let lastRejection: string | undefined
  let last = store.current()
  // Credentials already loaded when logging starts are said once, like a rotation.
  if (last !== undefined) {
    const change = describeChange(undefined, last)
    log.info({ identity: store.identity.toString(), source: last.source, generation: last.generation, ...change }, changeMessage(last, change, true))
  }
  // A warning holds as long as the config and the source disagree: say it once per process.
  const warned = new Set<string>()
  const warn = (warnings: readonly CredentialError[]): void => {
    for (const w of warnings) {
      const key = `${w.code}\0${w.where ?? ''}\0${w.message}`
      if (warned.has(key)) continue
      warned.add(key)
      log.warn({ identity: store.identity.toString(), source: w.source, code: w.code, where: w.where }, `${w.message} (${w.code})`)
    }
  }
  warn(store.warnings)
  return store.onAttempt((o: AttemptOutcome) => {
    const identity = store.identity.toString()
    warn(o.warnings ?? [])
    if (o.result === 'rejected') {
      const e = o.error
      const key = `${e?.code ?? ''}\0${e?.where ?? ''}\0${e?.message ?? ''}`
      if (key === lastRejection) return
      lastRejection = key
      // An SVID of another identity (or none for ours) will not fix itself: say it at error, not as a passing warning.
      const level = e?.code === CREDENTIALS_ERROR.WRONG_IDENTITY || e?.code === CREDENTIALS_ERROR.IDENTITY_NOT_DELIVERED ? 'error' : 'warn'
      log[level]({ identity, source: o.source, code: e?.code, where: e?.where, reason: e?.message },
        `credential update rejected: ${e?.message ?? 'unknown reason'} (${e?.code ?? 'no code'}); the last good credentials stay`)
      return
    }
    lastRejection = undefined
    const next = o.snapshot
    if (o.result !== 'accepted' || next === undefined) return
    const change = describeChange(last, next)
    const first = last === undefined
    last = next
    log.info({ identity, source: o.source, generation: next.generation, ...change }, changeMessage(next, change, first))
  })
}

/**
 * Returns the readable line of a credential change (`first`: the first credentials loaded): a rotation names the SPIFFE ID, serial,
 * not-after and generation (what an operator checks against `inspect` and `/status`); a
 * trust-only change names the trust domains.
 */
export function changeMessage (after: CredentialSnapshot, change: ReturnType<typeof describeChange>, first = false): string {
  const svid = `${after.svid.id.toString()} serial ${change.svidSerial}, not after ${change.svidNotAfter}, generation ${after.generation}`
  const trust = [['added', change.trustDomainsAdded], ['removed', change.trustDomainsRemoved], ['changed', change.trustDomainsChanged]] as const
  const domains = trust.filter(([, list]) => list.length > 0).map(([what, list]) => `${what} ${list.join(', ')}`).join('; ')
  if (change.svidChanged) return `${first ? 'svid loaded' : 'svid rotated'}: ${svid}${domains === '' ? '' : `; trust domains ${domains}`}`
  return `trust bundles changed: ${domains === '' ? 'same trust domains, new generation' : `trust domains ${domains}`} (svid ${svid})`
}

/** Returns what differs between `before` and `after`, for the log. */
function describeChange (before: CredentialSnapshot | undefined, after: CredentialSnapshot): {
  svidChanged: boolean, svidSerial: string, svidNotAfter: string, trustDomainsAdded: string[], trustDomainsRemoved: string[], trustDomainsChanged: string[]
} {
  const domains = (s: CredentialSnapshot | undefined): Map<string, string> =>
    new Map([...s?.bundles ?? []].map((b) => [b.trustDomain.name, b.fingerprints().join(',')]))
  const was = domains(before)
  const now = domains(after)
  return {
    svidChanged: before?.svidGeneration !== after.svidGeneration,
    svidSerial: after.svid.leaf.serialNumber,
    svidNotAfter: new Date(after.svid.notAfter).toISOString(),
    trustDomainsAdded: [...now.keys()].filter((d) => !was.has(d)),
    trustDomainsRemoved: [...was.keys()].filter((d) => !now.has(d)),
    trustDomainsChanged: [...now.keys()].filter((d) => was.has(d) && was.get(d) !== now.get(d))
  }
}
