import { assertKeyFileSafe } from '../credentials/key-file-mode.ts'
import { readRequiredCredentialFile } from '../credentials/read-file.ts'
import type { SpiffeLbConfig } from '../config/types.ts'
import type { RoutingShape } from '../proxy/routing-table.ts'
import { DEFAULT_OUTLIER_DETECTION } from '../proxy/limits.ts'
import { plainConnector } from '../proxy/plain-connector.ts'
import type { FrontendOptions, RoutingOptions, ServiceOptions } from '../proxy/types.ts'
import type { BackendConnector as SpiffeConnector } from '../tls/connector-types.ts'

/**
 * Returns the proxy's routing options for `config`: one service per backend service, each
 * connecting through the connector of its own identity (`connectFor`), and the url map as is.
 */
export function routingFromConfig (config: SpiffeLbConfig, connectFor: (service: string) => SpiffeConnector): RoutingOptions {
  const shape = routingShapeFromConfig(config)
  return {
    services: shape.services.map((s) => {
      // Cleartext to the loopback application behind an inbound listener: no SVID, no trust to follow.
      if (s.protocol === 'HTTP') return { ...s, connect: plainConnector() }
      const connect = connectFor(s.name)
      return { ...s, connect, credentialChanges: connect }
    }),
    urlMap: shape.urlMap
  }
}

/** Returns the routing of `config` as plain data, without connectors (see {@link routingFromConfig}). */
export function routingShapeFromConfig (config: SpiffeLbConfig): RoutingShape {
  const services: Array<Omit<ServiceOptions, 'connect'>> = config.backendServices.map((svc) => ({
    name: svc.name,
    endpoints: svc.backends.flatMap((b) => b.endpoints.map((e) => ({ host: e.host, port: e.port }))),
    policy: svc.localityLbPolicy,
    timeoutMs: svc.timeoutMs,
    protocol: svc.protocol,
    ...(svc.customRequestHeaders.length === 0 ? {} : { customRequestHeaders: svc.customRequestHeaders }),
    connectionPool: {
      maxRequestsPerConnection: svc.connectionPool.maxRequestsPerConnection,
      maxConcurrentStreams: svc.connectionPool.maxConcurrentStreams,
      keepAlive: svc.connectionPool.maxRequestsPerConnection !== 1
    },
    ...(svc.circuitBreakers === undefined ? {} : { circuitBreakers: svc.circuitBreakers }),
    ...(svc.outlierDetection === undefined ? {} : { outlierDetection: { ...DEFAULT_OUTLIER_DETECTION, ...svc.outlierDetection } }),
    ...(svc.healthCheck === undefined
      ? {}
      : {
          healthCheck: {
            path: svc.healthCheck.requestPath,
            intervalMs: svc.healthCheck.checkIntervalMs,
            timeoutMs: svc.healthCheck.timeoutMs,
            healthyThreshold: svc.healthCheck.healthyThreshold,
            unhealthyThreshold: svc.healthCheck.unhealthyThreshold
          }
        })
  }))
  const urlMap = config.urlMap
  return {
    services,
    urlMap: { defaultService: urlMap.defaultService, hostRules: urlMap.hostRules, pathMatchers: urlMap.pathMatchers }
  }
}

/** Returns the frontend listener options, reading the optional TLS certificate and key files. */
export async function frontendFromConfig (config: SpiffeLbConfig): Promise<FrontendOptions> {
  const { listen, tls, limits, allowTrace } = config.frontend
  if (tls === undefined) return { host: listen.host, port: listen.port, limits, allowTrace }
  const [cert, key] = await Promise.all([readRequiredCredentialFile(tls.certFile), readRequiredCredentialFile(tls.keyFile)])
  assertKeyFileSafe(tls.keyFile, key.mode)
  return { host: listen.host, port: listen.port, tls: { cert: cert.text, key: key.text }, limits, allowTrace }
}
