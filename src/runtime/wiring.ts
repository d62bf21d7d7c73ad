import type { AddressInfo } from 'node:net'
import type { Logger } from 'pino'
import { createAdminServer, type AdminServer, type AdminServerOptions } from '../admin/admin-server.ts'
import type { PeerRecord } from '../admin/peer-record.ts'
import { createMetrics, type SpiffeLbMetrics } from '../admin/metrics.ts'
import type { InboundStatus, ServiceHealth } from '../admin/status.ts'
import type { ConfigIssue } from '../config/issues.ts'
import type { SpiffeLbConfig } from '../config/types.ts'
import type { Clock } from '../internal/clock.ts'
import { SpiffeLbError } from '../internal/errors.ts'
import { logCredentialChanges } from './credential-log.ts'
import { keyFileWarnings, openIdentityCredentials, type IdentityCredentials } from './credentials-wiring.ts'
import { federationStatus, identityStatus, trustDomainStatus } from './owned-credentials.ts'
import { assertServeable } from './routing-plan.ts'

/** What a reload did: the new config's changes, or every error while the old config stays. */
export type ServerReload = { ok: true, changes: string[] } | { ok: false, errors: ConfigIssue[] }

/** A running `serve`: one process (`startServer`) or a node:cluster primary with workers (`startCluster`). */
export interface RunningServer {
  readonly proxyAddress: AddressInfo
  readonly adminAddress: AddressInfo
  readonly config: SpiffeLbConfig
  /** The credentials of each managed identity, owned by this process. */
  readonly credentials: readonly IdentityCredentials[]
  /** Re-reads the config file; applies it only when valid and allowed by the reload rules. */
  reload (): Promise<ServerReload>
  /** Stops accepting, drains in-flight requests up to `deadlineMs`, then stops everything. */
  close (deadlineMs?: number): Promise<void>
}

/** The pieces every process model starts the same way: metrics and the credentials of each identity. */
export interface RuntimeCore {
  readonly metrics: SpiffeLbMetrics
  readonly credentials: readonly IdentityCredentials[]
  /** Stops every credential source. */
  stopSources (): Promise<void>
}

/**
 * Refuses a config that cannot be served, then creates the metrics and opens one credential
 * store per managed identity, each reporting its reload attempts to the metrics and logging
 * rejected updates and changes to `log` (once each); warns about private keys others can read.
 */
export async function openRuntimeCore (config: SpiffeLbConfig, clock: Clock, log: Logger): Promise<RuntimeCore> {
  assertServeable(config)
  const metrics = createMetrics({ clock })
  const credentials = await openIdentityCredentials(config, clock, (message) => { log.warn({ warning: message }, 'certificate revocation list') }, log)
  for (const c of credentials) {
    c.store.onAttempt((o) => { metrics.observeCredentialReload(o.result) })
    logCredentialChanges(c.store, log)
  }
  for (const warning of await keyFileWarnings(config)) log.warn({ warning }, 'private key file permissions')
  return {
    metrics,
    credentials,
    async stopSources () { await Promise.all(credentials.map(async (c) => { c.revocation?.stop(); c.federation?.stop(); await c.source.stop() })) }
  }
}

/**
 * Returns the (not yet listening) admin server of `config`: `metrics` (the process's own or
 * the cluster's aggregated view), identity and trust domains from `credentials`, and endpoint
 * health from `services`.
 */
export function createRuntimeAdmin (config: SpiffeLbConfig, options: {
  metrics: AdminServerOptions['metrics']
  credentials: readonly IdentityCredentials[]
  services: () => ServiceHealth[]
  peers?: () => PeerRecord[]
  inbound?: () => InboundStatus
  clock: Clock
}): AdminServer {
  const { credentials, clock } = options
  return createAdminServer({
    host: config.admin.listen.host,
    port: config.admin.listen.port,
    allowedHosts: config.admin.allowedHosts,
    metrics: options.metrics,
    providers: {
      identity: () => identityStatus(credentials, clock.now()),
      trustDomains: () => trustDomainStatus(credentials, clock.now()),
      federation: () => federationStatus(credentials),
      services: options.services,
      ...(options.inbound === undefined ? {} : { inbound: options.inbound })
    },
    ...(options.peers === undefined ? {} : { peers: options.peers }),
    clock
  })
}

/**
 * Returns the refused reload for a coded error thrown while applying the new routing (the
 * error's config path, or `backendServices`); rethrows anything else.
 */
export function refusedReload (err: unknown): ServerReload {
  if (!(err instanceof SpiffeLbError)) throw err
  return { ok: false, errors: [{ path: err.at ?? 'backendServices', code: err.code, message: err.message }] }
}
