import type { CrlView, FederatedDomainStatus, IdentityStatus, TrustDomainStatus } from '../admin/status.ts'
import type { SpiffeLbConfig } from '../config/types.ts'
import { configuredTrust, type IdentityCredentials } from './credentials-wiring.ts'
import { certificateView } from './rotation-log.ts'
import { certLabel } from '../spiffe/cert-info.ts'

// What the process that owns the credential stores (the single server, or the cluster primary)
// reports about them and does with them on a config reload.

/** Returns the identity `/status` and `/readyz` report: with several, the one that expires first. */
export function identityStatus (credentials: readonly IdentityCredentials[], now: number): IdentityStatus | undefined {
  // Several identities: report the one that expires first, since it decides readiness.
  let best: IdentityStatus | undefined
  for (const c of credentials) {
    const snap = c.store.current()
    const err = c.store.lastError
    const state = c.source.connection === undefined ? {} : { sourceState: c.source.connection }
    const status: IdentityStatus = snap === undefined
      ? { spiffeId: c.identity.toString(), notBefore: 0, notAfter: 0, source: c.source.name, ...state, ...(err === undefined ? {} : { lastError: `${err.code}: ${err.message}` }) }
      : {
          spiffeId: snap.svid.id.toString(),
          notBefore: snap.svid.notBefore,
          notAfter: snap.svid.notAfter,
          source: snap.source,
          ...state,
          generation: snap.generation,
          ...(c.store.nextRefreshAt === undefined ? {} : { nextRotationAt: c.store.nextRefreshAt }),
          ...(err === undefined ? {} : { lastError: `${err.code}: ${err.message}` }),
          serial: snap.svid.leaf.serialNumber.toLowerCase(),
          chain: snap.svid.chain.map((cert, i) => certificateView(cert, i === 0 ? snap.svid.id.toString() : undefined)),
          ...(c.rotations === undefined ? {} : { rotations: c.rotations.list() })
        }
    if (best === undefined || status.notAfter < best.notAfter || (snap !== undefined && !c.store.usable(now))) best = status
  }
  return best
}

/**
 * Returns one line per identity whose credentials cannot be presented at `now`: the SPIFFE ID,
 * the backend services that present it and why (the store's status, with its last error). An
 * empty list means every identity holds a usable SVID.
 */
export function credentialProblems (credentials: readonly IdentityCredentials[], now: number): string[] {
  return credentials.flatMap((c) => {
    const status = c.store.status(now)
    if (status.ready) return []
    const services = c.services.map((s) => JSON.stringify(s)).join(', ')
    const err = status.lastError
    // The pending message already carries the last error; the other two states do not.
    const why = status.reason === 'pending' || err === undefined ? status.message : `${status.message}; last error ${err.code}: ${err.message}`
    return [`no usable svid for ${c.identity.toString()} (backend services ${services}): ${why}`]
  })
}

/**
 * Returns every trust domain the current snapshots trust, with its anchors' fingerprints and its
 * CRLs: each configured one (file, url, local CA pool) with its last error, and each one the
 * credential source delivered (Workload API) that is in force.
 */
export function trustDomainStatus (credentials: readonly IdentityCredentials[], now = Date.now()): TrustDomainStatus[] {
  const out = new Map<string, TrustDomainStatus>()
  const policy = (p: string | undefined): string => p ?? 'fail-closed'
  for (const c of credentials) {
    const snap = c.store.current()
    const configured = c.revocation?.status() ?? []
    const federated = new Map((c.federation?.status() ?? []).map((f) => [f.trustDomain, f]))
    const inline = new Set((c.federation?.bundles().trustDomains() ?? []).map((td) => td.name))
    for (const bundle of snap?.bundles ?? []) {
      const td = bundle.trustDomain.name
      const crls: CrlView[] = configured.filter((s) => s.trustDomain === td).map(({ trustDomain: _, lastError, staleCrl, ...rest }) => ({
        ...rest, staleCrl: policy(staleCrl), ...(lastError === undefined ? {} : { lastError: `${lastError.code}: ${lastError.message}` })
      }))
      const inForce = snap?.revocation?.get(td)
      for (const l of inForce?.lists ?? []) {
        if (crls.some((v) => v.source === l.source)) continue
        crls.push({
          source: l.source,
          staleCrl: policy(inForce?.staleCrl),
          thisUpdate: new Date(l.thisUpdate).toISOString(),
          ...(l.nextUpdate === undefined ? {} : { nextUpdate: new Date(l.nextUpdate).toISOString() }),
          revoked: l.revokedSerials.size,
          stale: l.nextUpdate !== undefined && now > l.nextUpdate
        })
      }
      const fps = bundle.fingerprints()
      const endpoint = federated.get(td)
      const refreshedAt = endpoint === undefined ? snap?.loadedAt : endpoint.lastSuccessAt
      out.set(td, {
        trustDomain: td,
        fingerprints: fps,
        ...(crls.length === 0 ? {} : { crls }),
        source: endpoint !== undefined ? `bundle endpoint ${endpoint.endpoint}` : inline.has(td) ? 'additionalTrustBundles' : sourceLabel(snap?.source ?? c.source.name),
        anchors: bundle.authorities.map((a, i) => ({ fingerprint: fps[i] ?? '', subject: certLabel(a), notAfter: a.validToDate.toISOString() })),
        ...(refreshedAt === undefined ? {} : { refreshedAt })
      })
    }
  }
  return [...out.values()].sort((a, b) => a.trustDomain.localeCompare(b.trustDomain))
}

/** Returns where a credential source's bundles come from, in the words of the docs. */
function sourceLabel (source: string): string {
  switch (source) {
    case 'issuer': return 'workload identity pool (local CA)'
    case 'directory': return 'credential files'
    case 'metadata': return 'metadata server'
    case 'workload-api': return 'SPIFFE Workload API'
    default: return source
  }
}

/**
 * Hands each store the trust bundles `config` configures for it (its pool's
 * `additionalTrustBundles`, or the top-level `trustBundles`; a reload); a store
 * re-publishes at once when they changed, so a removed trust domain is distrusted at once.
 */
export async function applyTrustBundles (credentials: readonly IdentityCredentials[], config: SpiffeLbConfig): Promise<void> {
  for (const c of credentials) {
    const trust = configuredTrust(config, c.identity)
    if (c.federation !== undefined) await c.federation.reconfigure(trust.additionalTrustBundles, trust.bundleEndpoints)
    else c.store.setAdditionalTrustBundles(trust.additionalTrustBundles)
  }
}

/** Returns each federated trust domain's bundle endpoint state (the first identity's, when several poll one). */
export function federationStatus (credentials: readonly IdentityCredentials[]): FederatedDomainStatus[] {
  const out = new Map<string, FederatedDomainStatus>()
  for (const c of credentials) {
    for (const s of c.federation?.status() ?? []) {
      if (out.has(s.trustDomain)) continue
      out.set(s.trustDomain, {
        trustDomain: s.trustDomain,
        endpoint: s.endpoint,
        profile: s.profile,
        state: s.state,
        refreshHintMs: s.refreshHintMs,
        ...(s.lastFetchAt === undefined ? {} : { lastFetchAt: s.lastFetchAt }),
        ...(s.lastSuccessAt === undefined ? {} : { lastSuccessAt: s.lastSuccessAt }),
        ...(s.nextFetchAt === undefined ? {} : { nextFetchAt: s.nextFetchAt }),
        ...(s.sequence === undefined ? {} : { sequence: s.sequence }),
        ...(s.lastError === undefined ? {} : { lastError: `${s.lastError.code}: ${s.lastError.message}` })
      })
    }
  }
  return [...out.values()].sort((a, b) => a.trustDomain.localeCompare(b.trustDomain))
}
