import { createHash } from 'node:crypto'
import { revocationKey, type RevocationByDomain, type RevocationList, type RevocationOptions } from '../spiffe/revocation.ts'

/**
 * Returns the CRLs in force per trust domain: those configured (config files and URLs, the local
 * CA pool's own CRL, each with the domain's stale-CRL policy) plus those a source delivered with
 * the credentials (the Workload API's `crl` fields), or undefined when there are none at all.
 * A domain with delivered CRLs but no configuration takes the default policy (fail closed).
 */
export function mergeRevocation (configured: RevocationByDomain | undefined,
  delivered: ReadonlyMap<string, readonly RevocationList[]> | undefined): RevocationByDomain | undefined {
  const out = new Map<string, RevocationOptions>()
  for (const [td, opts] of configured ?? []) out.set(td, opts)
  for (const [td, lists] of delivered ?? []) {
    if (lists.length === 0) continue
    const seen = out.get(td)
    out.set(td, { lists: [...(seen?.lists ?? []), ...lists], ...(seen?.staleCrl === undefined ? {} : { staleCrl: seen.staleCrl }) })
  }
  return out.size === 0 ? undefined : out
}

/** Returns a fingerprint equal for two revocation sets that revoke the same way in every domain ('' for none). */
export function revocationFingerprint (revocation: RevocationByDomain | undefined): string {
  if (revocation === undefined || revocation.size === 0) return ''
  const parts = [...revocation].map(([td, opts]) => `${td}=${revocationKey(opts)}`).sort()
  return createHash('sha256').update(parts.join('\n')).digest('hex')
}
