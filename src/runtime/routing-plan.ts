import type { ConfigIssue } from '../config/issues.ts'
import type { SpiffeLbConfig } from '../config/types.ts'
import { SpiffeLbError, quote, restoreError } from '../internal/errors.ts'
import { compileRouting } from '../proxy/routing-table.ts'
import type { RoutingOptions, ServiceOptions, UrlMapOptions } from '../proxy/types.ts'
import type { BackendConnector } from '../tls/connector-types.ts'
import { routingShapeFromConfig } from './proxy-wiring.ts'
import { serveError } from './errors.ts'

/** A backend service as plain data: its proxy options plus which identity its connector presents. */
export interface PlannedService extends Omit<ServiceOptions, 'connect'> {
  /** SPIFFE ID of the service's `tlsSettings.identity`. */
  identity: string
  sessionResumption: boolean
  /** `connectionPool.keyExchangeGroups`; absent = the connector's default. */
  keyExchangeGroups?: string[]
  /** `authorization.allowedPeers` as canonical pattern strings; undefined = any verified peer. */
  allowedPeers?: string[]
}

/**
 * The routing of one config as plain (JSON) data: what `serve --workers N` sends a worker, which
 * builds the connectors itself. {@link routingFromPlan} turns it back into proxy options.
 */
export interface RoutingPlan {
  services: PlannedService[]
  urlMap: UrlMapOptions
}

/**
 * Throws unless `config` can be served: every backend service has a `tlsSettings.identity`
 * (`ERR_SPIFFE_SERVE_NO_IDENTITY`: spiffe-lb forwards only over SPIFFE mTLS, fail closed) and
 * there is at least one service (`ERR_SPIFFE_SERVE_NO_SERVICES`).
 */
export function assertServeable (config: SpiffeLbConfig): void {
  const first = serveIssues(config)[0]
  // The issue is a record: a serve rule's code (src/runtime) or the proxy's routing error's own code.
  if (first !== undefined) throw restoreError(first, { at: first.path })
}

/**
 * Returns every reason `serve` would refuse a config that loads (empty when it can be served):
 * the rules of {@link assertServeable} for each service, then the proxy's own routing checks
 * (`ERR_SPIFFE_PROXY_*`). `serve --check` and `serve` both report these, so the check never
 * passes a config that `serve` refuses.
 */
export function serveIssues (config: SpiffeLbConfig): ConfigIssue[] {
  const issues: ConfigIssue[] = []
  for (const [i, svc] of config.backendServices.entries()) {
    // Cleartext services (validated: loopback, behind an inbound policy) need no identity.
    if (svc.tlsSettings.identity === undefined && svc.protocol !== 'HTTP') {
      issues.push({
        path: `backendServices[${i}].tlsSettings.identity`,
        code: 'ERR_SPIFFE_SERVE_NO_IDENTITY',
        message: `backend service ${quote(svc.name)} has no tlsSettings.identity; spiffe-lb forwards only over spiffe mtls`
      })
    }
  }
  const inbound = config.frontend.serverTlsPolicy
  if (inbound !== undefined && !('identity' in inbound.serverCertificate) && !config.backendServices.some((s) => s.tlsSettings.identity !== undefined)) {
    issues.push({
      path: 'frontend.serverTlsPolicy.serverCertificate',
      code: 'ERR_SPIFFE_SERVE_INBOUND_NO_TRUST',
      message: 'serverCertificate gives files, and no managed identity of the config brings the trust bundles client certificates are verified against; use serverCertificate.identity'
    })
  }
  if (config.backendServices.length === 0) {
    issues.push({ path: 'backendServices', code: 'ERR_SPIFFE_SERVE_NO_SERVICES', message: 'the config defines no backend services to forward to' })
  }
  if (issues.length > 0) return issues
  try {
    compileRouting(routingShapeFromConfig(config))
  } catch (err) {
    if (!(err instanceof SpiffeLbError)) throw err
    issues.push({ path: err.at ?? 'urlMap', code: err.code, message: err.message })
  }
  return issues
}

/**
 * Returns the routing plan of `config` whose identities must all be among `loaded` (the ones
 * whose credentials were opened at start). Throws `ERR_SPIFFE_SERVE_NEW_IDENTITY` for another
 * identity (credentials are opened once, at start), `ERR_SPIFFE_SERVE_NO_IDENTITY` /
 * `_NO_SERVICES` (see {@link assertServeable}) and `ERR_SPIFFE_PROXY_*` for a url map or
 * service set the proxy would refuse, so a worker is only ever sent a plan it can apply.
 */
export function planRouting (config: SpiffeLbConfig, loaded: readonly string[]): RoutingPlan {
  assertServeable(config)
  const routing = routingShapeFromConfig(config)
  const services = routing.services.map((service): PlannedService => {
    const svc = config.backendServices.find((s) => s.name === service.name)
    const identity = svc?.tlsSettings.identity?.spiffeId.toString() ?? ''
    if (!loaded.includes(identity)) throw newIdentity(service.name, identity)
    const groups = svc?.connectionPool.keyExchangeGroups
    const allowedPeers = svc?.authorization?.allowedPeers.map(String)
    return {
      ...service,
      identity,
      sessionResumption: svc?.connectionPool.tlsSessionResumption ?? true,
      ...(groups === undefined ? {} : { keyExchangeGroups: groups }),
      ...(allowedPeers === undefined ? {} : { allowedPeers })
    }
  })
  compileRouting(routing) // the proxy's own checks: a worker is only sent a plan it can apply
  return { services, urlMap: routing.urlMap }
}

/** Returns the proxy's routing options for `plan`, each service using `connect(service)`. */
export function routingFromPlan (plan: RoutingPlan, connect: (service: PlannedService) => BackendConnector): RoutingOptions {
  return {
    services: plan.services.map(({ identity: _identity, sessionResumption: _resumption, keyExchangeGroups: _groups, allowedPeers: _allowed, ...service }, i) => {
      const connector = connect(plan.services[i] as PlannedService)
      return { ...service, connect: connector, credentialChanges: connector }
    }),
    urlMap: plan.urlMap
  }
}

/** Returns the `ERR_SPIFFE_SERVE_NEW_IDENTITY` error: credentials are opened at start only. */
export function newIdentity (service: string, identity: string): SpiffeLbError {
  return serveError('ERR_SPIFFE_SERVE_NEW_IDENTITY',
    `backend service ${quote(service)} uses identity ${quote(identity === '' ? '(none)' : identity)} that was not loaded at start; restart to add identities`)
}
