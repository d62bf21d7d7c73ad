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
import { SpiffeLbError } from '../internal/errors.ts'
import { createProxy } from '../proxy/proxy.ts'
import type { BackendConnector } from '../tls/connector-types.ts'
import { createConnectorPool } from './connector-pool.ts'
import { openIdentityCredentials } from './credentials-wiring.ts'
import type { IdentityCredentials } from './credentials-wiring.ts'
import { applyTrustBundles, identityStatus, trustDomainStatus } from './owned-credentials.ts'
import { frontendFromConfig, routingFromConfig } from './proxy-wiring.ts'
import { assertServeable, newIdentity } from './routing-plan.ts'

/** What a reload did: the new config's changes, or every error while the old config stays. */
export type ServerReload = { ok: true, changes: string[] } | { ok: false, errors: ConfigIssue[] }

/** A running `serve`: one process (see {@link startServer}) or a node:cluster primary with workers. */
export interface RunningServer {
  readonly proxyAddress: AddressInfo
  readonly adminAddress: AddressInfo
  readonly config: SpiffeLbConfig
  /** Re-reads the config file; applies it only when valid and allowed by the reload rules. */
  reload (): Promise<ServerReload>
  /** Stops accepting, drains in-flight requests up to `deadlineMs`, then stops everything. */
  close (deadlineMs?: number): Promise<void>
}

/** The running data plane: proxy, admin listener and the credentials they follow. */
export interface ServerHandle extends RunningServer {
  readonly metrics: SpiffeLbMetrics
  readonly credentials: readonly IdentityCredentials[]
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
  assertServeable(config)
  const metrics = createMetrics({ clock })
  const credentials = await openIdentityCredentials(config, clock)
  for (const c of credentials) c.store.onAttempt((o) => { metrics.observeCredentialReload(o.result) })

  const pool = createConnectorPool({
    snapshotsFor: (identity) => credentials.find((c) => c.identity.toString() === identity)?.store,
    onHandshake: (e) => { metrics.observeHandshake(e) },
    clock
  })
  const connectFor = (running: SpiffeLbConfig) => (service: string): BackendConnector => {
    const svc = running.backendServices.find((s) => s.name === service)
    if (svc === undefined) throw newIdentity(service, '')
    return pool.connect(service, svc.tlsSettings.identity?.spiffeId.toString() ?? '', svc.connectionPool.tlsSessionResumption)
  }

  let running = config
  // Every service brings its own connector, and assertServeable refused a config without one.
  const proxy = createProxy({
    frontend: await frontendFromConfig(config),
    ...routingFromConfig(config, connectFor(config)),
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
      await applyTrustBundles(credentials, result.config)
      swapped.catch((err: unknown) => { log.warn({ err }, 'closing the previous backend pools failed') })
      running = result.config
      return { ok: true, changes: result.changes }
    },
    async close (deadlineMs = 10_000): Promise<void> {
      await proxy.close(deadlineMs)
      await admin.close()
      await Promise.all(credentials.map(async (c) => { await c.source.stop() }))
      pool.close()
    }
  }
}
