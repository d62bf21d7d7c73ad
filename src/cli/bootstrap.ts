import type { AddressInfo } from 'node:net'
import type { Logger } from 'pino'
import { createAdminServer } from '../admin/admin-server.ts'
import { createMetrics } from '../admin/metrics.ts'
import type { SpiffeLbMetrics } from '../admin/metrics.ts'
import type { IdentityStatus, ServiceHealth, TrustDomainStatus } from '../admin/status.ts'
import type { ConfigIssue } from '../config/issues.ts'
import { reloadConfig } from '../config/reload.ts'
import type { SpiffeLbConfig } from '../config/types.ts'
import type { Clock } from '../internal/clock.ts'
import { systemClock } from '../internal/clock.ts'
import { SpiffeLbError, quote } from '../internal/errors.ts'
import { createProxy } from '../proxy/proxy.ts'
import type { BackendConnector } from '../tls/connector-types.ts'
import { createBackendConnector } from '../tls/backend-connector.ts'
import { peerIdentity } from '../tls/peer-identity.ts'
import { openIdentityCredentials } from './credentials-wiring.ts'
import type { IdentityCredentials } from './credentials-wiring.ts'
import { frontendFromConfig, routingFromConfig } from './proxy-wiring.ts'

/** What a reload did: the new config's changes, or every error while the old config stays. */
export type ServerReload = { ok: true, changes: string[] } | { ok: false, errors: ConfigIssue[] }

/** The running data plane: proxy, admin listener and the credentials they follow. */
export interface ServerHandle {
  readonly proxyAddress: AddressInfo
  readonly adminAddress: AddressInfo
  readonly config: SpiffeLbConfig
  readonly metrics: SpiffeLbMetrics
  readonly credentials: readonly IdentityCredentials[]
  /** Re-reads the config file; applies it only when valid and allowed by the reload rules. */
  reload (): Promise<ServerReload>
  /** Stops accepting, drains in-flight requests up to `deadlineMs`, then stops everything. */
  close (deadlineMs?: number): Promise<void>
}

export interface StartOptions {
  logger: Logger
  clock?: Clock
}

/**
 * Starts the data plane for a validated `config`: credentials per managed identity, one SPIFFE
 * mTLS connector per backend service (so each presents its own identity and keeps its own
 * session-resumption setting), the proxy and the admin listener. Returns once all listen.
 */
export async function startServer (config: SpiffeLbConfig, options: StartOptions): Promise<ServerHandle> {
  const clock = options.clock ?? systemClock
  const log = options.logger
  for (const svc of config.backendServices) {
    if (svc.tlsSettings.identity === undefined) {
      // Fail closed: spiffe-lb only forwards over SPIFFE mTLS, never plain or unauthenticated TLS.
      throw new SpiffeLbError('ERR_SPIFFE_SERVE_NO_IDENTITY',
        `backend service ${quote(svc.name)} has no tlsSettings.identity; spiffe-lb forwards only over spiffe mtls`,
        { at: `backendServices[${config.backendServices.indexOf(svc)}].tlsSettings.identity` })
    }
  }
  const metrics = createMetrics({ clock })
  const credentials = await openIdentityCredentials(config, clock)
  for (const c of credentials) c.store.onAttempt((o) => { metrics.observeCredentialReload(o.result) })

  const connectors = new Map<string, BackendConnector>()
  const connectFor = (running: SpiffeLbConfig) => (service: string): BackendConnector => {
    const svc = running.backendServices.find((s) => s.name === service)
    const id = svc?.tlsSettings.identity?.spiffeId.toString()
    const creds = credentials.find((c) => c.identity.toString() === id)
    if (svc === undefined || creds === undefined) {
      throw new SpiffeLbError('ERR_SPIFFE_SERVE_NEW_IDENTITY',
        `backend service ${quote(service)} uses identity ${quote(id ?? '(none)')} that was not loaded at start; restart to add identities`)
    }
    const key = `${service}\0${id ?? ''}\0${String(svc.connectionPool.tlsSessionResumption)}`
    let connect = connectors.get(key)
    if (connect === undefined) {
      connect = createBackendConnector({
        snapshots: creds.store,
        sessionResumption: svc.connectionPool.tlsSessionResumption,
        clock,
        onHandshake: (e) => { metrics.observeHandshake(e) }
      })
      connectors.set(key, connect)
    }
    return connect
  }

  let running = config
  const routing = routingFromConfig(config, connectFor(config))
  const firstService = routing.services[0]
  if (firstService?.connect === undefined) {
    throw new SpiffeLbError('ERR_SPIFFE_SERVE_NO_SERVICES', 'the config defines no backend services to forward to')
  }
  const proxy = createProxy({
    frontend: await frontendFromConfig(config),
    ...routing,
    connect: firstService.connect,
    peerIdentity: (socket) => peerIdentity(socket)?.toString(),
    logger: log,
    metrics,
    clock
  })
  const identity = (): IdentityStatus | undefined => identityStatus(credentials, clock.now())
  const trustDomains = (): TrustDomainStatus[] => trustDomainStatus(credentials)
  const services = (): ServiceHealth[] => proxy.status().services
  const admin = createAdminServer({
    host: config.admin.listen.host,
    port: config.admin.listen.port,
    metrics,
    providers: { identity, trustDomains, services },
    clock
  })
  let proxyAddress: AddressInfo
  let adminAddress: AddressInfo
  try {
    proxyAddress = await proxy.listen()
    adminAddress = await admin.listen()
  } catch (err) {
    await proxy.close(0).catch(() => {})
    await Promise.all(credentials.map(async (c) => { await c.source.stop() }))
    throw err
  }

  return {
    proxyAddress,
    adminAddress,
    metrics,
    credentials,
    get config () { return running },
    async reload (): Promise<ServerReload> {
      const result = await reloadConfig(running, { file: running.source })
      if (!result.ok) return { ok: false, errors: result.errors }
      let swapped: Promise<void>
      try {
        // createProxy validates synchronously inside reload; the promise then only tracks
        // the old pools draining, which must not hold up the reload's answer.
        swapped = proxy.reload(routingFromConfig(result.config, connectFor(result.config)))
        await Promise.race([swapped, new Promise((resolve) => setImmediate(resolve))])
      } catch (err) {
        if (!(err instanceof SpiffeLbError)) throw err
        return { ok: false, errors: [{ path: err.at ?? 'backendServices', code: err.code, message: err.message }] }
      }
      for (const c of credentials) {
        const pool = result.config.workloadIdentityPools.find((p) => p.trustDomain.equals(c.identity.trustDomain))
        if (pool !== undefined) await c.store.setAdditionalTrustBundles(pool.additionalTrustBundles)
      }
      swapped.catch((err: unknown) => { log.warn({ err }, 'closing the previous backend pools failed') })
      running = result.config
      return { ok: true, changes: result.changes }
    },
    async close (deadlineMs = 10_000): Promise<void> {
      await proxy.close(deadlineMs)
      await admin.close()
      await Promise.all(credentials.map(async (c) => { await c.source.stop() }))
      for (const connect of connectors.values()) connect.close()
    }
  }
}

function identityStatus (credentials: readonly IdentityCredentials[], now: number): IdentityStatus | undefined {
  // Several identities: report the one that expires first, since it decides readiness.
  let best: IdentityStatus | undefined
  for (const c of credentials) {
    const snap = c.store.current()
    const err = c.store.lastError
    const status: IdentityStatus = snap === undefined
      ? { spiffeId: c.identity.toString(), notBefore: 0, notAfter: 0, ...(err === undefined ? {} : { lastError: `${err.code}: ${err.message}` }) }
      : {
          spiffeId: snap.svid.id.toString(),
          notBefore: snap.svid.notBefore,
          notAfter: snap.svid.notAfter,
          source: snap.source,
          generation: snap.generation,
          ...(c.store.nextRefreshAt === undefined ? {} : { nextRotationAt: c.store.nextRefreshAt }),
          ...(err === undefined ? {} : { lastError: `${err.code}: ${err.message}` })
        }
    if (best === undefined || status.notAfter < best.notAfter || (snap !== undefined && !c.store.usable(now))) best = status
  }
  return best
}

function trustDomainStatus (credentials: readonly IdentityCredentials[]): TrustDomainStatus[] {
  const out = new Map<string, TrustDomainStatus>()
  for (const c of credentials) {
    for (const bundle of c.store.current()?.bundles ?? []) {
      out.set(bundle.trustDomain.name, { trustDomain: bundle.trustDomain.name, fingerprints: bundle.fingerprints() })
    }
  }
  return [...out.values()].sort((a, b) => a.trustDomain.localeCompare(b.trustDomain))
}
