import type { AddressInfo } from 'node:net'
import type { Logger } from 'pino'
import type { SpiffeLbMetrics } from '../admin/metrics.ts'
import type { SpiffeLbConfig } from '../config/types.ts'
import type { Clock } from '../internal/clock.ts'
import { systemClock } from '../internal/clock.ts'
import { createProxy } from '../proxy/proxy.ts'
import type { BackendConnector } from '../tls/connector-types.ts'
import { PeerLog } from './peer-log.ts'
import { createConnectorPool, logTrustWithdrawn } from './connector-pool.ts'
import type { IdentityCredentials } from './credentials-wiring.ts'
import { reloadSequence } from './reload-sequence.ts'
import { frontendFromConfig, routingFromConfig } from './proxy-wiring.ts'
import { inboundFromConfig } from './inbound-wiring.ts'
import { newIdentity } from './routing-plan.ts'
import { createRuntimeAdmin, openRuntimeCore, type RunningServer, type ServerReload } from './wiring.ts'
import { DRAIN_TIMEOUT_MS } from '../defaults.ts'
import { proxyLogger } from './access-log.ts'

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
  const { metrics, credentials, stopSources } = await openRuntimeCore(config, clock, log)

  const peers = new PeerLog()
  const pool = createConnectorPool({
    snapshotsFor: (identity) => credentials.find((c) => c.identity.toString() === identity)?.store,
    onHandshake: (e) => { metrics.observeHandshake(e); peers.record(e, clock.now()) },
    onTrustWithdrawn: (e) => { metrics.observeTrustWithdrawn(e); logTrustWithdrawn(log, e) },
    clock
  })
  const connectFor = (running: SpiffeLbConfig) => (service: string): BackendConnector => {
    const svc = running.backendServices.find((s) => s.name === service)
    if (svc === undefined) throw newIdentity(service, '')
    return pool.connect(service, svc.tlsSettings.identity?.spiffeId.toString() ?? '', svc.connectionPool.tlsSessionResumption,
      svc.connectionPool.keyExchangeGroups, svc.authorization?.allowedPeers.map(String))
  }

  let running = config
  const inbound = await inboundFromConfig(config, credentials, { clock, log, metrics, peers }).catch(async (err: unknown) => { await stopSources(); throw err })
  // Every service brings its own connector, and assertServeable refused a config without one.
  const proxy = createProxy({
    frontend: { ...await frontendFromConfig(config), ...(inbound === undefined ? {} : { inbound: inbound.options }) },
    ...routingFromConfig(config, connectFor(config)),
    logger: proxyLogger(log),
    metrics,
    clock
  })
  const admin = createRuntimeAdmin(config, {
    metrics, credentials, services: () => proxy.status().services, peers: () => peers.view(), clock,
    ...(inbound === undefined ? {} : { inbound: () => inbound.status(proxy.status().inboundConnections ?? 0) })
  })
  let proxyAddress: AddressInfo
  let adminAddress: AddressInfo
  try {
    proxyAddress = await proxy.listen()
    adminAddress = await admin.listen()
  } catch (err) {
    await proxy.close(0).catch(() => {})
    inbound?.stop()
    await stopSources()
    throw err
  }

  return {
    proxyAddress,
    adminAddress,
    metrics,
    credentials,
    get config () { return running },
    async reload (): Promise<ServerReload> {
      let swapped: Promise<void> | undefined
      const { reload, config } = await reloadSequence({ running, credentials, clock, log }, {
        route: async (next) => {
          // createProxy validates synchronously inside reload; the promise then only tracks
          // the old pools draining, which must not hold up the reload's answer.
          swapped = proxy.reload(routingFromConfig(next, connectFor(next)))
          await Promise.race([swapped, new Promise((resolve) => setImmediate(resolve))])
          return undefined
        }
      })
      if (config === undefined) return reload
      swapped?.catch((err: unknown) => { log.warn({ err }, 'closing the previous backend pools failed') })
      running = config
      return reload
    },
    async close (deadlineMs = DRAIN_TIMEOUT_MS): Promise<void> {
      await proxy.close(deadlineMs)
      inbound?.stop()
      await admin.close()
      await stopSources()
      pool.close()
    }
  }
}
