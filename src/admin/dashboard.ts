/**
 * The admin dashboard (`GET /` on the admin listener, README "Admin dashboard"): a page, its
 * script, style sheet and icon, served from files beside this module (copied into dist/ by the
 * build), under a Content-Security-Policy that allows nothing but this origin; and
 * `/dashboard/events`, a Server-Sent Events stream of `/status`, `/debug/peers` and the traffic
 * sampler's points. Read-only like the rest of the admin listener: the page has no action.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { readFile } from 'node:fs/promises'
import { constants, createGzip, gzipSync } from 'node:zlib'
import { DASHBOARD_SAMPLE_INTERVAL_MS, DASHBOARD_WINDOW_MS } from '../defaults.ts'
import type { Clock } from '../internal/clock.ts'
import type { PeerRecord } from './peer-record.ts'
import { TrafficSampler, type TrafficSample } from './traffic-sampler.ts'

/** A route of the admin listener: writes the whole answer to `res`. */
export type AdminRoute = (res: ServerResponse, req: IncomingMessage) => Promise<void> | void

/** Where the page may load from and connect to: this origin only, no inline script or style. */
export const DASHBOARD_CSP = [
  "default-src 'none'", "script-src 'self'", "style-src 'self'", "img-src 'self'", "connect-src 'self'",
  "base-uri 'none'", "form-action 'none'", "frame-ancestors 'none'"
].join('; ')

/** The page's files: path served → file name beside this module and its content type. */
const ASSETS: Record<string, { file: string, type: string }> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/dashboard/app.js': { file: 'app.js', type: 'text/javascript; charset=utf-8' },
  '/dashboard/dom.js': { file: 'dom.js', type: 'text/javascript; charset=utf-8' },
  '/dashboard/charts.js': { file: 'charts.js', type: 'text/javascript; charset=utf-8' },
  '/dashboard/app.css': { file: 'app.css', type: 'text/css; charset=utf-8' },
  '/dashboard/icon.svg': { file: 'icon.svg', type: 'image/svg+xml' }
}

/** What the dashboard reads: the same views as `/status`, `/debug/peers` and `/metrics`. */
export interface DashboardOptions {
  status: () => object
  peers?: (() => PeerRecord[]) | undefined
  metricsText: () => Promise<string>
  clock: Clock
}

/** The dashboard's routes and its sampler. */
export interface Dashboard {
  readonly routes: Record<string, AdminRoute>
  /** Stops the traffic sampler. */
  close (): void
}

/** Returns the dashboard of an admin listener; it samples traffic only once a page has been opened. */
export function createDashboard (options: DashboardOptions): Dashboard {
  const sampler = new TrafficSampler(options.metricsText, { clock: options.clock, intervalMs: DASHBOARD_SAMPLE_INTERVAL_MS, windowMs: DASHBOARD_WINDOW_MS })
  const loaded = new Map<string, Promise<{ plain: Buffer, gzip: Buffer }>>()
  const load = async (file: string): Promise<{ plain: Buffer, gzip: Buffer }> => {
    let p = loaded.get(file)
    if (p === undefined) {
      p = readFile(new URL(`./dashboard/${file}`, import.meta.url)).then((plain) => ({ plain, gzip: gzipSync(plain) }))
      // A missing file (a build without the copy step) is retried on the next request.
      p.catch(() => { loaded.delete(file) })
      loaded.set(file, p)
    }
    return await p
  }
  const view = (): { status: object, peers: PeerRecord[] | null } => ({ status: options.status(), peers: options.peers?.() ?? null })

  const routes: Record<string, AdminRoute> = {}
  for (const [path, asset] of Object.entries(ASSETS)) {
    routes[path] = async (res, req) => {
      if (path === '/') sampler.start()
      const body = await load(asset.file)
      const gzip = acceptsGzip(req)
      const bytes = gzip ? body.gzip : body.plain
      res.writeHead(200, {
        ...pageHeaders(asset.type),
        'content-length': bytes.length,
        vary: 'accept-encoding',
        ...(gzip ? { 'content-encoding': 'gzip' } : {})
      })
      res.end(req.method === 'HEAD' ? undefined : bytes)
    }
  }
  routes['/dashboard/events'] = (res, req) => {
    // Each event repeats most of the one before: compressed as one stream (flushed per event,
    // the dictionary kept) it costs a tenth of its size.
    const gzip = acceptsGzip(req)
    res.writeHead(200, {
      ...pageHeaders('text/event-stream; charset=utf-8'),
      'cache-control': 'no-store',
      vary: 'accept-encoding',
      ...(gzip ? { 'content-encoding': 'gzip' } : {})
    })
    if (req.method === 'HEAD') { res.end(); return }
    sampler.start()
    const out = gzip ? createGzip() : undefined
    out?.pipe(res)
    const write = (text: string): void => {
      if (out === undefined) { res.write(text); return }
      out.write(text)
      out.flush(constants.Z_SYNC_FLUSH)
    }
    write('retry: 2000\n\n')
    write(event('hello', { intervalMs: sampler.intervalMs, windowMs: DASHBOARD_WINDOW_MS, history: sampler.history(), ...view() }))
    const off = sampler.onSample((s: TrafficSample) => { write(event('tick', { ...s, ...view() })) })
    req.once('close', () => { off(); out?.destroy() })
  }
  return { routes, close () { sampler.stop() } }
}

/** Returns the headers of every dashboard answer: the content type and the page's security policy. */
function pageHeaders (type: string): Record<string, string> {
  return {
    'content-type': type,
    'cache-control': 'no-cache',
    'content-security-policy': DASHBOARD_CSP,
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'x-frame-options': 'DENY'
  }
}

/** Returns one Server-Sent Event. */
function event (name: string, data: object): string {
  return `event: ${name}\ndata: ${JSON.stringify(data)}\n\n`
}

function acceptsGzip (req: IncomingMessage): boolean {
  return /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''))
}
