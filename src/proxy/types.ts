/**
 * Over 250 lines: every option type the proxy accepts sits in one place, so the config module's
 * mapping has one file to read.
 * The proxy's own, narrow option types (docs/architecture.md#layers: proxy → tls, spiffe only). The config
 * module maps its YAML model (§4 `backendServices`, `urlMap`, `frontend`) onto these; the proxy
 * never imports config or credentials.
 */
import type { Socket } from 'node:net'
import type { buildConnector } from 'undici'
import type { Clock } from '../internal/clock.ts'
import type { CredentialChanges } from '../tls/credential-changes.ts'
import type { CustomHeader, InboundTlsOptions } from './inbound-types.ts'

import type { BackendProtocol, LbPolicy } from '../enums.ts'

export type { LbPolicy } from '../enums.ts'
export type { CustomHeader, InboundEvent, InboundTlsOptions } from './inbound-types.ts'

/** One backend address. */
export interface EndpointAddress { host: string, port: number }

/** Active health checking of every endpoint of a service, over the backend connector. */
export interface HealthCheckOptions {
  /** Request path of the `GET`; any 2xx answer counts as a success. */
  path: string
  intervalMs: number
  timeoutMs: number
  /** Consecutive successes that re-admit an unhealthy endpoint. */
  healthyThreshold: number
  /** Consecutive failures that eject a healthy endpoint. */
  unhealthyThreshold: number
}

/** Connection reuse towards each endpoint. */
export interface ConnectionPoolOptions {
  /** Requests sent over one connection before it is replaced; 0 = unlimited. */
  maxRequestsPerConnection: number
  /** Reuse connections between requests (false: one connection per request). */
  keepAlive: boolean
  /** Idle keep-alive connections are closed after this long (default 4000 ms). */
  keepAliveTimeoutMs?: number
  /** Upper bound of concurrent connections per endpoint (default unlimited). */
  maxConnectionsPerEndpoint?: number
  /** Concurrent streams on one HTTP/2 connection (protocol `HTTP2`; default 100). */
  maxConcurrentStreams?: number
}

/** One backend service (`backendServices[]`). */
export interface ServiceOptions {
  name: string
  endpoints: readonly EndpointAddress[]
  policy: LbPolicy
  /**
   * `timeoutSec`: time allowed for the whole response, headers (then 504) and body (then the
   * response is cut and logged `completed: false`); a client's slow upload does not count.
   */
  timeoutMs: number
  /**
   * Scheme of the backend origin handed to the connector (default `HTTPS`: HTTP/1.1 over the
   * mTLS connector). `HTTP2`: HTTP/2 over the mTLS connector, ALPN must select `h2`.
   * `HTTP` is for plain-TCP connectors in tests of the proxy logic.
   */
  protocol?: BackendProtocol
  healthCheck?: HealthCheckOptions
  connectionPool: ConnectionPoolOptions
  /**
   * This service's own backend connector (each backend service presents the SVID of its own
   * `tlsSettings.identity`); default {@link ProxyOptions.connect}.
   */
  connect?: ConnectFn
  /**
   * The credential changes pooled connections must follow (the service's SPIFFE connector):
   * a rotated or expired SVID, or a changed or removed bundle of a backend's trust domain,
   * retires the pooled connections concerned before their next request. None: never retired.
   */
  credentialChanges?: CredentialChanges
  /**
   * `backendServices[].customRequestHeaders`: set on every forwarded request after the client's
   * headers of the same names are removed; `{client_cert_*}` variables tell the inbound verdict.
   */
  customRequestHeaders?: readonly CustomHeader[]
  /**
   * How long a passively ejected endpoint stays out when the service has no active health
   * check to re-admit it (default 10000 ms). With a health check, only the check re-admits.
   */
  passiveEjectionMs?: number
  /** `backendServices[].circuitBreakers`: past a limit, requests are answered 503 at once. */
  circuitBreakers?: CircuitBreakerOptions
  /**
   * `backendServices[].outlierDetection`: ejection after consecutive errors or gateway
   * failures. Absent: an endpoint that cannot be connected to is ejected at once for
   * `passiveEjectionMs`.
   */
  outlierDetection?: OutlierDetectionOptions
}

/** The cloud's `circuitBreakers` of a backend service; an absent field is no limit. */
export interface CircuitBreakerOptions {
  /** Connections to the whole service (spread over its endpoints). */
  maxConnections?: number
  /** Requests waiting for a connection. */
  maxPendingRequests?: number
  /** Requests in flight to the service. */
  maxRequests?: number
  /** Retries in flight to the service. */
  maxRetries?: number
}

/** The cloud's `outlierDetection` of a backend service, times in milliseconds. */
export interface OutlierDetectionOptions {
  /** Consecutive 5xx answers (gateway failures included) that eject an endpoint. */
  consecutiveErrors: number
  /** Consecutive gateway failures (502, 503, 504, connect failure, timeout, reset) that eject. */
  consecutiveGatewayFailure: number
  /** Percent chance an ejection by `consecutiveErrors` is enforced (the cloud's default is 0). */
  enforcingConsecutiveErrors: number
  /** Percent chance an ejection by `consecutiveGatewayFailure` is enforced (default 100). */
  enforcingConsecutiveGatewayFailure: number
  /** An ejection lasts this long times the endpoint's ejections in a row. */
  baseEjectionTimeMs: number
  /** At most this percent of the endpoints are ejected at once (at least one may be). */
  maxEjectionPercent: number
}

/** A path rule: `paths` are exact (`/login`) or prefixes ending in `/*` (`/v1/*`). */
export interface PathRule { paths: readonly string[], service: string }

/** A named set of path rules with its fallback service. */
export interface PathMatcher { name: string, defaultService?: string, pathRules?: readonly PathRule[] }

/** Hosts (exact, `*.example.com`, or `*`) routed to a path matcher. */
export interface HostRule { hosts: readonly string[], pathMatcher: string }

/** The url map in the cloud's shape (`gcloud compute url-maps describe`). */
export interface UrlMapOptions {
  /** Service for requests no host rule matches; absent = 404. */
  defaultService?: string
  hostRules?: readonly HostRule[]
  pathMatchers?: readonly PathMatcher[]
}

/** The client-facing listener. */
export interface FrontendOptions {
  host: string
  port: number
  /** PEM certificate chain and key; without them (or `inbound`) the frontend speaks cleartext HTTP/1.1. */
  tls?: { cert: string | Buffer, key: string | Buffer }
  /** Inbound mTLS (`frontend.serverTlsPolicy`): the client verifier and mode; replaces `tls`. */
  inbound?: InboundTlsOptions
  /** Client connection limits (extension `frontend.limits`); absent fields take the defaults. */
  limits?: Partial<FrontendLimits>
  /**
   * Forward TRACE requests (extension `frontend.allowTrace`, default false: answered 405, since
   * a TRACE echo would hand the backend's view of the request, cookies included, to a script).
   */
  allowTrace?: boolean
}

/** Limits on client connections: slow or too many clients cannot starve the proxy. */
export interface FrontendLimits {
  /** Concurrent client connections; more are closed on accept. */
  maxConnections: number
  /** Time to receive a request's headers (slowloris), then 408 and close. */
  headersTimeoutMs: number
  /** Time to receive a whole request, body included, then 408 and close. */
  requestTimeoutMs: number
  /** An idle keep-alive client connection is closed after this long. */
  keepAliveTimeoutMs: number
  /** Largest request head (request line and headers) in bytes; larger is answered 431. */
  maxHeaderSize: number
  /** HTTP/2 streams one client connection may have open at once (SETTINGS_MAX_CONCURRENT_STREAMS). */
  http2MaxConcurrentStreams: number
  /**
   * HTTP/2 streams one client connection may reset (RST_STREAM) before their response began,
   * within {@link http2ResetStreamsWindowMs}; one more and the connection is sent GOAWAY
   * ENHANCE_YOUR_CALM and closed (the "rapid reset" attack).
   */
  http2MaxResetStreams: number
  /** The window {@link http2MaxResetStreams} counts in. */
  http2ResetStreamsWindowMs: number
}

/**
 * The undici connect function a backend service uses for every connection and health check
 * (tls/ `BackendConnector` is one, with management helpers; `plainConnector` another).
 */
export type ConnectFn = buildConnector.connector

/** A verified backend's SPIFFE ID as the TLS layer hands it over (tls/ `peerIdentity()` returns one). */
export interface PeerId {
  readonly trustDomain: { readonly name: string }
  toString (): string
}

/**
 * Returns the SPIFFE ID a connected backend socket proved, or undefined: typed (a
 * {@link PeerId}, what the default reads from the TLS layer) or as its `spiffe://` string.
 */
export type PeerIdentity = (socket: Socket) => PeerId | string | undefined

/** Request and health metrics the proxy reports (the admin metrics object implements it). */
export interface ProxyMetrics {
  /** `protocol` / `backendProtocol`: `HTTP/1.1` or `HTTP/2.0` on each side ('' when no backend answered). */
  observeRequest (r: { service: string, endpoint: string, code: number, durationSeconds: number, protocol?: string, backendProtocol?: string }): void
  /** Counts a judged inbound client connection by outcome, rule (`''` when accepted) and peer trust domain. */
  observeInboundHandshake? (outcome: string, code: string, trustDomain: string): void
  /** Counts a request that arrived over the inbound listener by its client's verified trust domain ('' when none). */
  observeInboundRequest? (trustDomain: string, code: number): void
  /** Counts a request refused by a circuit breaker; `reason` is the limit (`maxRequests`, …). */
  observeCircuitBreaker? (service: string, reason: string): void
  /** Counts a client that hit a `frontend.limits` limit; `limit` is its key (`http2MaxResetStreams`, …). */
  observeFrontendLimit? (limit: string): void
  setEndpointHealthy (service: string, endpoint: string, healthy: boolean): void
  removeEndpoint (service: string, endpoint: string): void
}

/**
 * One access-log record: what the proxy says of each request (or WebSocket relay) once it
 * ended. Fields absent here are left out of the line.
 */
export interface AccessRecord {
  method: string | undefined
  path: string | undefined
  /** The normalised path, when it differs from `path`. */
  routedPath?: string | undefined
  host: string | undefined
  service: string
  endpoint: string
  status: number
  durationMs: number
  backendSpiffeId: string | null
  attempts: number
  /** Present (false) only when the response was cut after its status line. */
  completed?: false | undefined
  client: string | undefined
  /** Present on the inbound listener: the caller's verified SPIFFE ID, or null. */
  clientSpiffeId?: string | null | undefined
  protocol: string
  backendProtocol: string | null
  error?: string | undefined
}

/** The subset of a pino logger the proxy writes to. */
export interface ProxyLogger {
  info (obj: object, msg: string): void
  warn (obj: object, msg: string): void
  /**
   * Writes one access-log record; without it the proxy logs `info(record, 'request')`. A
   * logger offers it when it writes the same line more cheaply (runtime/access-log.ts).
   */
  access? (record: AccessRecord): void
}

/** The routing part of the options: what {@link ReverseProxy.reload} swaps. */
export interface RoutingOptions {
  services: readonly ServiceOptions[]
  urlMap: UrlMapOptions
}

/** Everything {@link createProxy} needs. */
export interface ProxyOptions extends RoutingOptions {
  frontend: FrontendOptions
  /** The connector of services that bring none of their own; one of the two is required. */
  connect?: ConnectFn
  /** Default: the src/tls peer-identity accessor. */
  peerIdentity?: PeerIdentity
  logger?: ProxyLogger
  metrics?: ProxyMetrics
  clock?: Clock
  /** Randomness for RANDOM / LEAST_REQUEST (tests pass a seeded generator). */
  random?: () => number
}

/** One endpoint as {@link ReverseProxy.status} reports it. */
export interface EndpointStatus {
  endpoint: string
  healthy: boolean
  /** Why it is unhealthy (last failed check or passive ejection). */
  reason?: string
  inFlight: number
  /** SPIFFE ID the endpoint proved on its latest connection. */
  peerSpiffeId?: string
}

/** One service as {@link ReverseProxy.status} reports it. */
export interface ServiceStatus { name: string, policy: LbPolicy, endpoints: EndpointStatus[] }

/** A snapshot of the proxy for `/status` and `/readyz`. */
export interface ProxyStatus {
  listening: { address: string, port: number } | undefined
  inFlight: number
  services: ServiceStatus[]
  /** Verified client connections open on the inbound listener (only with `frontend.inbound`). */
  inboundConnections?: number
}
