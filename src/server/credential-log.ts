import type { Logger } from 'pino'
import type { AttemptOutcome, CredentialStore } from '../credentials/store.ts'
import type { CredentialSnapshot } from '../credentials/snapshot.ts'

/**
 * Logs what happens to `store`'s credentials, each event once: a rejected update at `warn`
 * with its code, place and reason (the last good credentials stay), repeated failures with the
 * same reason only once until something else happens; an SVID or trust change at `info` with
 * what changed. Messages come from coded errors, which never quote file contents. Returns the
 * unsubscribe function.
 */
export function logCredentialChanges (store: CredentialStore, log: Logger): () => void {
  let lastRejection: string | undefined
  let last = store.current()
  return store.onAttempt((o: AttemptOutcome) => {
    const identity = store.identity.toString()
    if (o.result === 'rejected') {
      const e = o.error
      const key = `${e?.code ?? ''}\0${e?.where ?? ''}\0${e?.message ?? ''}`
      if (key === lastRejection) return
      lastRejection = key
      log.warn({ identity, source: o.source, code: e?.code, where: e?.where, reason: e?.message },
        'credential update rejected; the last good credentials stay')
      return
    }
    lastRejection = undefined
    const next = o.snapshot
    if (o.result !== 'accepted' || next === undefined) return
    const change = describeChange(last, next)
    last = next
    log.info({ identity, source: o.source, generation: next.generation, ...change }, 'credentials changed')
  })
}

/** Returns what differs between `before` and `after`, for the log. */
function describeChange (before: CredentialSnapshot | undefined, after: CredentialSnapshot): Record<string, unknown> {
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
