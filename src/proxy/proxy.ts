/**
 * The reverse proxy (docs/architecture.md#layers proxy): a frontend HTTP/1.1 listener (cleartext or TLS)
 * that routes each request through the url map to a backend service and relays it over the
 * injected backend connector (the SPIFFE mTLS connector in production).
 */
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import type { AddressInfo } from 'node:net'
import { systemClock, type Clock } from '../internal/clock.ts'
import { quote } from '../internal/errors.ts'
import { peerIdentity } from '../tls/peer-identity.ts'
import type { ServiceDeps } from './backend-service.ts'
import { FRONTEND_TIMEOUT_CHECK_MS, frontendLimits } from './limits.ts'
import { Exchange, originForm, type ExchangeResult } from './exchange.ts'
import { normalizeRequestPath } from './normalize-path.ts'
import { RoutingTable } from './routing-table.ts'
import type { ProxyLogger, ProxyOptions, ProxyStatus, RoutingOptions } from './types.ts'
import { DRAIN_TIMEOUT_MS } from '../defaults.ts'

/** A running (or ready to run) proxy; see {@link createProxy}. */
export interface ReverseProxy {
  /** Starts listening on the frontend address; resolves with the bound address (port 0 → real port). */
  listen (): Promise<AddressInfo>
  /**
   * Stops accepting connections, lets in-flight requests finish for up to `deadlineMs`
   * (default 30 s), then cuts whatever is left and closes every backend pool.
   */
  close (deadlineMs?: number): Promise<void>
  /**
   * Swaps services and url map atomically. Throws `ERR_SPIFFE_PROXY_*` and keeps the running
   * routing when `options` are invalid. New requests use the new routing at once; requests in
   * flight finish on the old pools. The promise resolves once the old pools are closed.
   */
  reload (options: RoutingOptions): Promise<void>
  /** Returns the listener address, requests in flight and every endpoint's health. */
  status (): ProxyStatus
  /** Runs one round of active health checks on every service now; resolves when done. */
  checkHealth (): Promise<void>
}

const silentLogger: ProxyLogger = { info: () => {}, warn: () => {} }

/**
 * Returns a proxy for `options` (not yet listening). Throws `ERR_SPIFFE_PROXY_*` with the
 * option path in `at` when services or url map are invalid.
 */
export function createProxy (options: ProxyOptions): ReverseProxy {
  const clock: Clock = options.clock ?? systemClock
  const logger = options.logger ?? silentLogger
  const metrics = options.metrics
  const deps: ServiceDeps = {
    connect: options.connect,
    peerIdentity: options.peerIdentity ?? ((socket) => peerIdentity(socket)?.toString()),
    clock,
    random: options.random ?? Math.random,
    logger,
    metrics
  }
  let table = new RoutingTable(options, deps)
  const retiring = new Set<RoutingTable>()
  const proto = options.frontend.tls === undefined ? 'http' : 'https'
  let inFlight = 0
  let closing = false
  let onDrained: (() => void) | undefined

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const started = clock.now()
    const current = table
    current.acquire()
    inFlight++
    if (closing) res.setHeader('connection', 'close')
    // Routed and forwarded as the same normalised path: the url map judges what the backend gets.
    const target = normalizeRequestPath(originForm(req.url))
    const path = target.ok ? target.path : undefined
    const serviceName = path === undefined ? undefined : current.router.route(req.headers.host, path)
    const service = serviceName === undefined ? undefined : current.services.get(serviceName)
    let result: Promise<ExchangeResult>
    if (req.method === 'TRACE' && options.frontend.allowTrace !== true) {
      const text = 'method TRACE is not allowed (frontend.allowTrace is off)\n'
      res.writeHead(405, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(text), allow: 'GET, HEAD, POST, PUT, DELETE, OPTIONS, PATCH' })
      res.end(text)
      result = Promise.resolve({ status: 405, endpoint: undefined, attempts: 0, error: text.trim() })
    } else if (!target.ok) {
      const text = `bad request path ${quote(req.url ?? '')}: ${target.reason}\n`
      res.writeHead(400, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(text) })
      res.end(text)
      result = Promise.resolve({ status: 400, endpoint: undefined, attempts: 0, error: text.trim() })
    } else if (service === undefined || path === undefined) {
      const text = `no route for host ${quote(req.headers.host ?? '')} path ${quote(req.url ?? '')}\n`
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(text) })
      res.end(text)
      result = Promise.resolve({ status: 404, endpoint: undefined, attempts: 0, error: text.trim() })
    } else {
      result = new Exchange(req, res, service, proto, clock, path).run()
    }
    const closed = new Promise<void>((resolve) => { res.once('close', resolve) })
    void Promise.all([result, closed]).then(([r]) => {
      const durationMs = clock.now() - started
      const endpoint = r.endpoint?.key ?? ''
      logger.info({
        method: req.method,
        path: req.url,
        ...(path !== undefined && path !== req.url ? { routedPath: path } : {}),
        host: req.headers.host,
        service: serviceName ?? '',
        endpoint,
        status: r.status,
        durationMs,
        backendSpiffeId: r.peerSpiffeId ?? r.endpoint?.peerSpiffeId ?? null,
        attempts: r.attempts,
        ...(r.completed === false ? { completed: false } : {}),
        client: req.socket.remoteAddress,
        ...(r.error === undefined ? {} : { error: r.error })
      }, 'request')
      metrics?.observeRequest({ service: serviceName ?? '', endpoint, code: r.status, durationSeconds: durationMs / 1000 })
      current.release()
      inFlight--
      if (inFlight === 0) onDrained?.()
    })
  }

  const limits = frontendLimits(options.frontend.limits)
  const serverOptions = {
    maxHeaderSize: limits.maxHeaderSize,
    headersTimeout: limits.headersTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    // Node checks both timeouts on this period (default 30 s, which would let a slowloris
    // client keep its connection far longer than headersTimeout).
    connectionsCheckingInterval: Math.min(FRONTEND_TIMEOUT_CHECK_MS, limits.headersTimeoutMs)
  }
  const server: Server = options.frontend.tls === undefined
    ? createHttpServer(serverOptions, handle)
    : createHttpsServer({ ...serverOptions, cert: options.frontend.tls.cert, key: options.frontend.tls.key }, handle)
  server.maxConnections = limits.maxConnections
  table.start()

  const retire = (old: RoutingTable): Promise<void> => {
    retiring.add(old)
    return old.retire().finally(() => retiring.delete(old))
  }

  return {
    listen: () => new Promise<AddressInfo>((resolve, reject) => {
      server.once('error', reject)
      server.listen(options.frontend.port, options.frontend.host, () => {
        server.off('error', reject)
        resolve(server.address() as AddressInfo)
      })
    }),

    async close (deadlineMs = DRAIN_TIMEOUT_MS) {
      closing = true
      const stopped = new Promise<void>((resolve) => {
        if (!server.listening) { resolve(); return }
        server.close(() => { resolve() })
      })
      server.closeIdleConnections()
      const drained = new Promise<void>((resolve) => {
        if (inFlight === 0) resolve()
        else onDrained = resolve
      })
      const timer = clock.setTimeout(() => { server.closeAllConnections() }, deadlineMs)
      await drained
      clock.clearTimeout(timer)
      server.closeAllConnections()
      const old = [table, ...retiring]
      await Promise.all(old.map(async (t) => { await t.destroy() }))
      await stopped
    },

    async reload (next) {
      const fresh = new RoutingTable(next, deps)
      const old = table
      fresh.inheritHealth(old) // an ejected endpoint stays out across a reload
      const done = retire(old) // stops the old health checks before the new ones publish
      table = fresh
      fresh.start()
      for (const s of old.status()) {
        for (const e of s.endpoints) {
          const still = fresh.services.get(s.name)?.endpoints.some((x) => x.key === e.endpoint) ?? false
          if (!still) metrics?.removeEndpoint(s.name, e.endpoint)
        }
      }
      await done
    },

    status () {
      const addr = server.address()
      return {
        listening: addr !== null && typeof addr === 'object' ? { address: addr.address, port: addr.port } : undefined,
        inFlight,
        services: table.status()
      }
    },

    async checkHealth () {
      await Promise.all([...table.services.values()].map(async (s) => { await s.checkNow() }))
    }
  }
}
