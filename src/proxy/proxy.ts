/**
 * The reverse proxy (docs/architecture.md#layers proxy): a frontend listener (cleartext HTTP/1.1
 * and h2c, or TLS with h2 and http/1.1 by ALPN; see frontend.ts) that routes each request
 * through the url map to a backend service and relays it over the
 * injected backend connector (the SPIFFE mTLS connector in production).
 */
import type { Http2ServerRequest } from 'node:http2'
import type { AddressInfo } from 'node:net'
import type { Duplex } from 'node:stream'
import { systemClock, type Clock } from '../internal/clock.ts'
import { quote } from '../internal/errors.ts'
import { peerIdentity } from '../tls/peer-identity.ts'
import type { ClientVerdict } from '../tls/client-verifier.ts'
import type { BackendService, ServiceDeps } from './backend-service.ts'
import { Exchange, originForm, type ExchangeResult } from './exchange.ts'
import { createFrontend, type FrontRequest, type FrontResponse, type UpgradeHead } from './frontend.ts'
import { LeanRequest } from './lean-request.ts'
import { normalizeRequestPath } from './normalize-path.ts'
import { answerPlainText } from './plain-text.ts'
import { relayWebSocket } from './websocket-relay.ts'
import { RoutingTable } from './routing-table.ts'
import type { AccessRecord, ProxyLogger, ProxyOptions, ProxyStatus, RoutingOptions } from './types.ts'
import { DRAIN_TIMEOUT_MS } from '../defaults.ts'

/** A running (or ready to run) proxy; see {@link createProxy}. */
export interface ReverseProxy {
  /** Starts listening on the frontend address; resolves with the bound address (port 0 → real port). */
  listen (): Promise<AddressInfo>
  /**
   * Stops accepting connections, lets in-flight requests finish for up to `deadlineMs`
   * (default {@link DRAIN_TIMEOUT_MS}, 10 s), then cuts whatever is left and closes every backend pool.
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
  const access = logger.access?.bind(logger) ?? ((record: AccessRecord) => { logger.info(record, 'request') })
  const deps: ServiceDeps = {
    connect: options.connect,
    peerIdentity: options.peerIdentity ?? peerIdentity,
    clock,
    random: options.random ?? Math.random,
    logger,
    metrics
  }
  let table = new RoutingTable(options, deps)
  const retiring = new Set<RoutingTable>()
  const proto = options.frontend.tls === undefined && options.frontend.inbound === undefined ? 'http' : 'https'
  let inFlight = 0
  let closing = false
  let onDrained: (() => void) | undefined

  /**
   * Runs one client request or WebSocket relay; logs and counts it once its result is known
   * and `closer` (the response or the upgraded socket) has emitted 'close'.
   */
  const track = (req: FrontRequest, client: string | undefined, serviceName: string | undefined,
    run: () => Promise<ExchangeResult>, closer: { once: (event: 'close', listener: () => void) => unknown }, verdict?: ClientVerdict): void => {
    const started = clock.now()
    const current = table
    current.acquire()
    inFlight++
    const host = requestHost(req)
    // Two flags rather than Promise.all of two promises: this runs for every request.
    let result: ExchangeResult | undefined
    let closed = false
    const finish = (r: ExchangeResult): void => {
      const durationMs = clock.now() - started
      const endpoint = r.endpoint?.key ?? ''
      const protocol = `HTTP/${req.httpVersion}`
      // One literal in the log's field order; an absent field is undefined, which the log
      // leaves out (spreads of conditional objects cost a copy each, per request).
      access({
        method: req.method,
        path: req.url,
        routedPath: r.routedPath !== undefined && r.routedPath !== req.url ? r.routedPath : undefined,
        host,
        service: serviceName ?? '',
        endpoint,
        status: r.status,
        durationMs,
        backendSpiffeId: r.peerSpiffeId ?? r.endpoint?.peerSpiffeId ?? null,
        attempts: r.attempts,
        completed: r.completed === false ? false : undefined,
        client,
        clientSpiffeId: verdict === undefined ? undefined : verdict.verified ? verdict.spiffeId : null,
        protocol,
        backendProtocol: r.backendProtocol ?? null,
        error: r.error
      })
      metrics?.observeRequest({ service: serviceName ?? '', endpoint, code: r.status, durationSeconds: durationMs / 1000, protocol, backendProtocol: r.backendProtocol ?? '' })
      if (verdict !== undefined) metrics?.observeInboundRequest?.(verdict.trustDomain, r.status)
      current.release()
      inFlight--
      if (inFlight === 0) onDrained?.()
    }
    closer.once('close', () => { closed = true; if (result !== undefined) finish(result) })
    void run().then((r) => { result = r; if (closed) finish(r) })
  }

  /**
   * Routes by the normalised path (the path the backend then receives): the url map judges
   * what the backend gets, on HTTP/1.1, h2c, h2 and WebSocket upgrades alike.
   */
  const route = (req: FrontRequest): { path: string | undefined, refusal: string | undefined, name: string | undefined, service: BackendService | undefined } => {
    const target = normalizeRequestPath(originForm(req.url))
    if (!target.ok) return { path: undefined, refusal: `bad request path ${quote(req.url ?? '')}: ${target.reason}`, name: undefined, service: undefined }
    const name = table.router.route(requestHost(req), target.path)
    return { path: target.path, refusal: undefined, name, service: name === undefined ? undefined : table.services.get(name) }
  }

  const answer = (res: FrontResponse, status: number, text: string, extra: Record<string, string> = {}): Promise<ExchangeResult> => {
    answerPlainText(res, status, text, extra)
    return Promise.resolve({ status, endpoint: undefined, attempts: 0, error: text.trim() })
  }

  const handle = (req: FrontRequest, res: FrontResponse): void => {
    if (closing && req.httpVersionMajor === 1) res.setHeader('connection', 'close')
    const { path, refusal, name, service } = route(req)
    const client = frontend.clientAddress(req)
    // The lean path serves cleartext only: no client certificate to judge there.
    const verdict = req instanceof LeanRequest ? undefined : frontend.inbound?.verdictOf(req)
    track(req, client, name, () => {
      if (verdict !== undefined && verdict.verified && !verdict.allowed) return answer(res, 403, `${verdict.code}: ${verdict.message}\n`)
      if (req.method === 'TRACE' && options.frontend.allowTrace !== true) {
        return answer(res, 405, 'method TRACE is not allowed (frontend.allowTrace is off)\n', { allow: 'GET, HEAD, POST, PUT, DELETE, OPTIONS, PATCH' })
      }
      if (refusal !== undefined) return answer(res, 400, `${refusal}\n`)
      if (service === undefined || path === undefined) {
        return answer(res, 404, `no route for host ${quote(requestHost(req) ?? '')} path ${quote(req.url ?? '')}\n`)
      }
      return new Exchange({ req, res, client, service, proto, clock, path, verdict }).run()
    }, res, verdict)
  }

  const upgrade = (req: UpgradeHead, socket: Duplex, head: Buffer): void => {
    const { path, refusal, name, service } = route(req)
    const verdict = req instanceof LeanRequest ? undefined : frontend.inbound?.verdictOf(req)
    const denied = verdict !== undefined && verdict.verified && !verdict.allowed ? `${verdict.code}: ${verdict.message}` : undefined
    track(req, req.socket.remoteAddress, name, () => relayWebSocket({
      req, socket, head, service: refusal === undefined && denied === undefined ? service : undefined, proto, closing: () => closing, ...(path === undefined ? {} : { path }),
      ...(refusal === undefined ? {} : { refusal }), ...(denied === undefined ? {} : { denied }), ...(verdict === undefined ? {} : { verdict })
    }), socket, verdict)
  }

  const frontend = createFrontend(options.frontend, handle, upgrade, (limit, client) => {
    metrics?.observeFrontendLimit?.(limit)
    if (limit === 'http2MaxResetStreams') logger.warn({ client, limit }, 'client connection closed (GOAWAY ENHANCE_YOUR_CALM): too many reset streams')
  })
  const server = frontend.server
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
      frontend.closeIdle()
      const drained = new Promise<void>((resolve) => {
        if (inFlight === 0) resolve()
        else onDrained = resolve
      })
      const timer = clock.setTimeout(() => { frontend.closeAll() }, deadlineMs)
      await drained
      clock.clearTimeout(timer)
      frontend.closeAll()
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
        services: table.status(),
        ...(frontend.inbound === undefined ? {} : { inboundConnections: frontend.inbound.openConnections() })
      }
    },

    async checkHealth () {
      await Promise.all([...table.services.values()].map(async (s) => { await s.checkNow() }))
    }
  }
}

/** Returns the request's Host, or its HTTP/2 `:authority`. */
function requestHost (req: FrontRequest): string | undefined {
  if (req instanceof LeanRequest) return req.host
  return req.headers.host ?? (req as Http2ServerRequest).headers[':authority']
}
