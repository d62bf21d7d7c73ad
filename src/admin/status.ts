/**
 * The read-only views the admin listener serves (docs/metrics.md): providers are plain functions
 * the composition root builds from the credential store and the proxy, so admin imports
 * neither. This file turns them into the `/status` document and the `/readyz` verdict.
 */

/** The workload's own identity as the credential layer reports it. */
export interface IdentityStatus {
  spiffeId: string
  /** Validity of the SVID in force, ms since the epoch; both 0 while no SVID was accepted. */
  notBefore: number
  notAfter: number
  /** When the next rotation is scheduled, ms since the epoch. */
  nextRotationAt?: number
  /** Where credentials come from (`issuer`, `directory`, `metadata`). */
  source?: string
  /** The state of the source's connection, for sources that hold one (`workload-api`). */
  sourceState?: string
  generation?: number
  /** The last failed reload, one line. */
  lastError?: string
  /** The leaf's serial number (hex). */
  serial?: string
  /** The SVID's certificates, leaf first (certificates only: never the key). */
  chain?: readonly CertificateView[]
  /** The SVIDs accepted since start, oldest first (bounded). */
  rotations?: readonly RotationView[]
}

/** One certificate as the dashboard and `/status` show it (times: ISO 8601). */
export interface CertificateView {
  subject: string
  spiffeId?: string
  issuer: string
  serial: string
  notBefore: string
  notAfter: string
}

/** One accepted SVID: when it was accepted, which and until when (times: ISO 8601). */
export interface RotationView { at: string, spiffeId: string, serial: string, notAfter: string }

/** One trust anchor: its SHA-256 fingerprint (hex), subject and expiry (ISO 8601). */
export interface AnchorView { fingerprint: string, subject: string, notAfter: string }

/** One trust domain the proxy trusts backends of. */
export interface TrustDomainStatus {
  trustDomain: string
  /** SHA-256 fingerprints (hex) of its trust anchors. */
  fingerprints: readonly string[]
  /** The CRLs its backends are checked against (configured or delivered), when any. */
  crls?: readonly CrlView[]
  /** Where its bundle comes from: the pool's own CA, `additionalTrustBundles`, a bundle endpoint, the Workload API, files. */
  source?: string
  anchors?: readonly AnchorView[]
  /** When its bundle was last refreshed (accepted by the store, or fetched from its endpoint), ms since the epoch. */
  refreshedAt?: number
}

/** One CRL of a trust domain: where it comes from, its validity, how many it revokes, its last error. */
export interface CrlView {
  source: string
  /** `fail-closed` or `fail-open`: what a CRL past its nextUpdate does. */
  staleCrl: string
  thisUpdate?: string
  nextUpdate?: string
  revoked?: number
  stale?: boolean
  lastError?: string
}

/** One federated trust domain's SPIFFE bundle endpoint, as its poller reports it (times: ms since the epoch). */
export interface FederatedDomainStatus {
  trustDomain: string
  endpoint: string
  profile: string
  /** `pending`, `fresh`, `stale` (last fetch failed, bundle kept) or `withdrawn` (past its max age). */
  state: string
  refreshHintMs: number
  lastFetchAt?: number
  lastSuccessAt?: number
  nextFetchAt?: number
  sequence?: number
  /** The last failed fetch, one line with its code; absent after a good fetch. */
  lastError?: string
}

/** One endpoint's health (the proxy's `EndpointStatus` fits). */
export interface EndpointHealth {
  endpoint: string
  healthy: boolean
  reason?: string
  inFlight?: number
  peerSpiffeId?: string
}

/** One backend service's endpoints (the proxy's `ServiceStatus` fits). */
export interface ServiceHealth { name: string, policy?: string, endpoints: readonly EndpointHealth[] }

/** The inbound mTLS listener (`frontend.serverTlsPolicy`), as the runtime reports it. */
export interface InboundStatus {
  /** `REJECT_INVALID` or `ALLOW_INVALID_OR_MISSING_CLIENT_CERT`. */
  clientValidationMode: string
  /** The SPIFFE ID presented (identity), or the certificate file. */
  serverCertificate: string
  /** Allowed client patterns; empty = any verified client. */
  allowedPeers: readonly string[]
  /** Verified client connections open now. */
  openConnections: number
  /** Judged client connections by outcome (accepted, forwarded, not-allowed, refused, ended). */
  connections: Readonly<Record<string, number>>
  /** The latest refusal, one line with its code. */
  lastRefusal?: string
}

/** Returns the identity in force, or undefined when no SVID has been accepted. */
export type IdentityProvider = () => IdentityStatus | undefined

/** The providers the admin listener reads; each is called per request, never cached. */
export interface AdminProviders {
  identity: IdentityProvider
  trustDomains: () => readonly TrustDomainStatus[]
  /** Federated trust domains fed by bundle endpoints; absent or empty when there are none. */
  federation?: () => readonly FederatedDomainStatus[]
  services: () => readonly ServiceHealth[]
  /** The inbound mTLS listener; absent when the frontend has no serverTlsPolicy. */
  inbound?: () => InboundStatus
}

/** The `/readyz` verdict. */
export interface Readiness { ready: boolean, reasons: string[] }

/**
 * Returns ready only with a valid SVID (accepted, inside its validity period at `now`) AND at
 * least one healthy endpoint in some backend service; otherwise every reason why not.
 */
export function readiness (providers: AdminProviders, now: number): Readiness {
  const reasons: string[] = []
  const id = providers.identity()
  if (id === undefined) {
    reasons.push('no svid has been accepted yet')
  } else if (!hasSvid(id)) {
    reasons.push(`no svid has been accepted for ${id.spiffeId}${id.lastError === undefined ? '' : `: ${id.lastError}`}`)
  } else if (now > id.notAfter) {
    reasons.push(`svid ${id.spiffeId} expired at ${new Date(id.notAfter).toISOString()}`)
  } else if (now < id.notBefore) {
    reasons.push(`svid ${id.spiffeId} is not valid before ${new Date(id.notBefore).toISOString()}`)
  }
  const services = providers.services()
  if (!services.some((s) => s.endpoints.some((e) => e.healthy))) {
    reasons.push(services.length === 0
      ? 'no backend service is configured'
      : `no healthy endpoint in any backend service (${services.map((s) => s.name).join(', ')})`)
  }
  return { ready: reasons.length === 0, reasons }
}

/** True when the identity holds an SVID; without one its validity is reported as 0 (the epoch). */
function hasSvid (id: IdentityStatus): boolean {
  return id.notAfter > 0
}

/** Returns the `/status` JSON document. */
export function statusDocument (providers: AdminProviders, now: number): object {
  const id = providers.identity()
  return {
    identity: id === undefined
      ? null
      : {
          spiffeId: id.spiffeId,
          notBefore: hasSvid(id) ? new Date(id.notBefore).toISOString() : null,
          svidExpiry: hasSvid(id) ? new Date(id.notAfter).toISOString() : null,
          expiresInSeconds: hasSvid(id) ? Math.floor((id.notAfter - now) / 1000) : null,
          nextRotation: id.nextRotationAt === undefined ? null : new Date(id.nextRotationAt).toISOString(),
          ...(id.source === undefined ? {} : { source: id.source }),
          ...(id.sourceState === undefined ? {} : { sourceState: id.sourceState }),
          ...(id.generation === undefined ? {} : { generation: id.generation }),
          ...(id.lastError === undefined ? {} : { lastError: id.lastError }),
          ...(id.serial === undefined ? {} : { serial: id.serial }),
          ...(id.chain === undefined ? {} : { chain: id.chain.map((c) => ({ ...c })) }),
          ...(id.rotations === undefined ? {} : { rotations: id.rotations.map((r) => ({ ...r })) })
        },
    trustDomains: providers.trustDomains().map((td) => ({
      trustDomain: td.trustDomain,
      anchorFingerprints: [...td.fingerprints],
      ...(td.source === undefined ? {} : { source: td.source }),
      ...(td.anchors === undefined ? {} : { anchors: td.anchors.map((a) => ({ ...a })) }),
      ...(td.refreshedAt === undefined ? {} : { lastRefresh: new Date(td.refreshedAt).toISOString() }),
      ...(td.crls === undefined ? {} : { crls: td.crls.map((c) => ({ ...c })) })
    })),
    ...federationSection(providers.federation?.() ?? []),
    ...(providers.inbound === undefined ? {} : { inbound: { ...providers.inbound() } }),
    services: providers.services().map((s) => ({
      name: s.name,
      ...(s.policy === undefined ? {} : { policy: s.policy }),
      healthyEndpoints: s.endpoints.filter((e) => e.healthy).length,
      endpoints: s.endpoints.map((e) => ({ ...e }))
    })),
    ready: readiness(providers, now)
  }
}

/** Returns the `federation` part of `/status`: one entry per federated domain, none when there are none. */
function federationSection (domains: readonly FederatedDomainStatus[]): object {
  if (domains.length === 0) return {}
  const iso = (ms: number | undefined): string | null => ms === undefined ? null : new Date(ms).toISOString()
  return {
    federation: domains.map((d) => ({
      trustDomain: d.trustDomain,
      endpoint: d.endpoint,
      profile: d.profile,
      state: d.state,
      lastFetch: iso(d.lastFetchAt),
      lastSuccess: iso(d.lastSuccessAt),
      nextFetch: iso(d.nextFetchAt),
      sequence: d.sequence ?? null,
      refreshHintSeconds: d.refreshHintMs / 1000,
      lastError: d.lastError ?? null
    }))
  }
}
