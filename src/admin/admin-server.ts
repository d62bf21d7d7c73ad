/**
 * The admin listener (docs/metrics.md): `/metrics` (Prometheus text), `/healthz` (liveness),
 * `/readyz` (valid SVID and a healthy endpoint), `/status` (JSON), `/debug/peers` (the last
 * verdict per backend endpoint, JSON), and `/` the dashboard over them (dashboard.ts).
 * Read-only: it only calls the providers it is given, so it can be exposed to monitoring
 * without control power. It answers only a `Host` that is an IP literal, `localhost` or a
 * configured name (421 otherwise).
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http'
import { http } from '../internal/node-http.ts'
import type { AddressInfo } from 'node:net'
import { systemClock, type Clock } from '../internal/clock.ts'
import { quote } from '../internal/errors.ts'
import { isAdminHost } from './admin-host.ts'
import type { SpiffeLbMetrics } from './metrics.ts'
import type { PeerRecord } from './peer-record.ts'
import { readiness, statusDocument, type AdminProviders } from './status.ts'
import { createDashboard, type AdminRoute } from './dashboard.ts'

const { createServer } = http

/** Options of {@link createAdminServer}. */
export interface AdminServerOptions {
  host: string
  port: number
  metrics: SpiffeLbMetrics
  providers: AdminProviders
  /**
   * Names answered besides IP literals and `localhost` (`admin.allowedHosts`, lowercase); any
   * other `Host` gets 421 (see admin-host.ts).
   */
  allowedHosts?: readonly string[]
  /** The last verdict per backend endpoint, served as `/debug/peers`; absent = no such page. */
  peers?: () => PeerRecord[]
  clock?: Clock
}

/** A running (or ready to run) admin listener. */
export interface AdminServer {
  /** Starts listening; resolves with the bound address. */
  listen (): Promise<AddressInfo>
  close (): Promise<void>
}

/**
 * Returns the admin listener. The metrics' SVID gauges are pointed at `providers.identity`
 * so both views report the same identity.
 */
export function createAdminServer (options: AdminServerOptions): AdminServer {
  const { metrics, providers } = options
  const clock = options.clock ?? systemClock
  metrics.setIdentityProvider(providers.identity)
  if (providers.federation !== undefined) metrics.setFederationProvider(providers.federation)

  const dashboard = createDashboard({
    status: () => statusDocument(providers, clock.now()), peers: options.peers, metricsText: async () => await metrics.text(), clock
  })
  const routes: Record<string, AdminRoute> = {
    ...dashboard.routes,
    '/healthz': (res) => { send(res, 200, 'text/plain; charset=utf-8', 'ok\n') },
    '/readyz': (res) => {
      const r = readiness(providers, clock.now())
      send(res, r.ready ? 200 : 503, 'text/plain; charset=utf-8',
        r.ready ? 'ready\n' : `not ready: ${r.reasons.join('; ')}\n`)
    },
    '/status': (res) => {
      send(res, 200, 'application/json', `${JSON.stringify(statusDocument(providers, clock.now()), null, 2)}\n`)
    },
    ...(options.peers === undefined ? {} : {
      '/debug/peers': (res: ServerResponse) => {
        send(res, 200, 'application/json', `${JSON.stringify({ peers: options.peers?.() ?? [] }, null, 2)}\n`)
      }
    }),
    '/metrics': async (res) => {
      send(res, 200, metrics.registry.contentType, await metrics.text())
    }
  }

  const allowedHosts = new Set((options.allowedHosts ?? []).map((h) => h.toLowerCase()))
  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    if (!isAdminHost(req.headers.host, allowedHosts)) {
      send(res, 421, 'text/plain; charset=utf-8', `host ${quote(req.headers.host ?? '')} is not an admin host: use an ip address, localhost or a name of admin.allowedHosts\n`)
      return
    }
    const path = (req.url ?? '/').split('?')[0] ?? '/'
    const route = routes[path]
    if (route === undefined) { send(res, 404, 'text/plain; charset=utf-8', `no admin endpoint ${path}; try / /metrics /healthz /readyz /status\n`); return }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD')
      send(res, 405, 'text/plain; charset=utf-8', 'admin endpoints are read-only (GET, HEAD)\n')
      return
    }
    Promise.resolve(route(res, req)).catch((err: unknown) => {
      if (!res.headersSent) send(res, 500, 'text/plain; charset=utf-8', `${err instanceof Error ? err.message : String(err)}\n`)
      else res.destroy()
    })
  }

  const server: Server = createServer(handle)
  return {
    listen: () => new Promise<AddressInfo>((resolve, reject) => {
      server.once('error', reject)
      server.listen(options.port, options.host, () => {
        server.off('error', reject)
        resolve(server.address() as AddressInfo)
      })
    }),
    close: () => new Promise<void>((resolve) => {
      dashboard.close()
      if (!server.listening) { resolve(); return }
      server.close(() => { resolve() })
      server.closeAllConnections()
    })
  }
}

function send (res: ServerResponse, status: number, type: string, body: string): void {
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store' })
  res.end(body)
}
