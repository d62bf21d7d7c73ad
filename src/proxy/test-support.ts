/**
 * Helpers for exercising the proxy over real loopback sockets: throw-away HTTP backends that
 * can be killed and revived on the same port, a raw client, and option builders. Used by the
 * proxy tests and handy for benchmarks; not part of the data plane.
 */
import { createServer, request as httpRequest, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import type { Test } from 'tap'
import { plainConnector } from './plain-connector.ts'
import { createProxy, type ReverseProxy } from './proxy.ts'
import type { ProxyLogger, ProxyOptions, ServiceOptions } from './types.ts'

/** A request a test backend received. */
export interface SeenRequest { method: string, url: string, headers: IncomingHttpHeaders, rawHeaders: string[] }

/** A loopback HTTP backend. */
export interface TestBackend {
  readonly name: string
  readonly port: number
  readonly seen: SeenRequest[]
  /** TCP connections accepted so far. */
  connections (): number
  /** Closes the listener and cuts every connection (the endpoint "dies"). */
  kill (): Promise<void>
  /** Listens again on the same port. */
  revive (): Promise<void>
  close (): Promise<void>
}

export type BackendHandler = (req: IncomingMessage, res: ServerResponse, name: string) => void

/** Default handler: `200 <name> <method> <url>`, `/healthz` → 200 `ok`. */
export const echoName: BackendHandler = (req, res, name) => {
  const body = req.url === '/healthz' ? 'ok' : `${name} ${req.method ?? ''} ${req.url ?? ''}`
  res.writeHead(200, { 'content-type': 'text/plain', 'x-backend': name })
  res.end(body)
}

/** Starts a backend on 127.0.0.1 (a free port unless `port` is given). */
export async function startBackend (name: string, handler: BackendHandler = echoName, port = 0): Promise<TestBackend> {
  const seen: SeenRequest[] = []
  const sockets = new Set<Socket>()
  let accepted = 0
  let server: Server
  let boundPort = port
  const open = async (): Promise<void> => {
    server = createServer((req, res) => {
      if (req.url !== '/healthz') {
        seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, rawHeaders: req.rawHeaders })
      }
      handler(req, res, name)
    })
    server.on('connection', (s) => { accepted++; sockets.add(s); s.on('close', () => sockets.delete(s)) })
    // Reviving takes the killed port back: while another socket holds it (a client's
    // ephemeral port, a parallel test), listen again until it is free rather than fail.
    const deadline = Date.now() + 10_000
    for (;;) {
      try {
        await new Promise<void>((resolve, reject) => {
          server.once('error', reject)
          server.listen(boundPort, '127.0.0.1', () => { server.off('error', reject); resolve() })
        })
        break
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE' || boundPort === 0 || Date.now() > deadline) throw err
        await new Promise((resolve) => setTimeout(resolve, 50))
      }
    }
    boundPort = (server.address() as AddressInfo).port
  }
  const kill = async (): Promise<void> => {
    if (!server.listening) return
    const closed = new Promise<void>((resolve) => { server.close(() => { resolve() }) })
    for (const s of sockets) s.destroy()
    await closed
  }
  await open()
  return {
    name,
    get port () { return boundPort },
    seen,
    connections: () => accepted,
    kill,
    revive: open,
    close: kill
  }
}

/**
 * The two connection paths a service can take: the undici keep-alive pool, and the lean
 * one-request-per-connection path (`maxRequestsPerConnection: 1`). Behaviour tests run on both.
 */
export const POOL_MODES: ReadonlyArray<[string, ServiceOptions['connectionPool']]> = [
  ['keep-alive pool', { maxRequestsPerConnection: 0, keepAlive: true }],
  ['one request per connection', { maxRequestsPerConnection: 1, keepAlive: false }]
]

/** Runs `body` once per {@link POOL_MODES} entry, in a subtest, with `svc` building services of that mode. */
export function forEachPoolMode (t: Test, body: (t: Test, svc: typeof testService) => void): void {
  for (const [mode, connectionPool] of POOL_MODES) {
    t.test(mode, async (t) => {
      body(t, (name, backends, extra = {}) => testService(name, backends, { connectionPool, ...extra }))
    })
  }
}

/** Returns service options with test-friendly defaults for `backends`. */
export function testService (name: string, backends: ReadonlyArray<{ port: number }>, extra: Partial<ServiceOptions> = {}): ServiceOptions {
  return {
    name,
    endpoints: backends.map((b) => ({ host: '127.0.0.1', port: b.port })),
    policy: 'ROUND_ROBIN',
    timeoutMs: 5000,
    protocol: 'HTTP',
    connectionPool: { maxRequestsPerConnection: 0, keepAlive: true },
    ...extra
  }
}

/** A response read whole by {@link fetchText}. */
export interface TextResponse { status: number, headers: IncomingHttpHeaders, body: string }

/** Sends one request on a fresh connection (no agent) and reads the whole answer. */
export async function fetchText (port: number, path: string, options: { host?: string, method?: string, headers?: Record<string, string | string[]>, body?: string | Buffer } = {}): Promise<TextResponse> {
  return await new Promise((resolve, reject) => {
    const req = httpRequest({
      host: '127.0.0.1',
      port,
      path,
      method: options.method ?? 'GET',
      agent: false,
      headers: { host: options.host ?? `127.0.0.1:${port}`, ...options.headers }
    }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => { resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }) })
      res.on('error', reject)
    })
    req.on('error', reject)
    req.end(options.body)
  })
}

/** Resolves once `condition()` is true, checking every `everyMs`; rejects after `maxMs`. */
export async function eventually (condition: () => boolean | Promise<boolean>, what: string, maxMs = 10_000, everyMs = 20): Promise<void> {
  const until = Date.now() + maxMs
  while (!(await condition())) {
    if (Date.now() > until) throw new Error(`gave up waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, everyMs))
  }
}

/** A logger that keeps every entry, for assertions on the access log. */
export interface RecordingLogger extends ProxyLogger {
  readonly entries: Array<Record<string, unknown> & { msg: string, level: 'info' | 'warn' }>
  /** The access-log entries (`msg: 'request'`). */
  requests (): Array<Record<string, unknown>>
}

/** Returns a {@link RecordingLogger}. */
export function recordingLogger (): RecordingLogger {
  const entries: RecordingLogger['entries'] = []
  return {
    entries,
    info: (obj, msg) => { entries.push({ ...obj, msg, level: 'info' }) },
    warn: (obj, msg) => { entries.push({ ...obj, msg, level: 'warn' }) },
    requests: () => entries.filter((e) => e.msg === 'request')
  }
}

/** A listening proxy with its recorded log. */
export interface TestProxy { proxy: ReverseProxy, port: number, log: RecordingLogger }

/**
 * Starts a proxy on 127.0.0.1 (free port) with the plain TCP connector unless `connect` is
 * given, and registers its forced close with `scope.teardown`.
 */
export async function startTestProxy (scope: { teardown: (fn: () => unknown) => void },
  options: Omit<ProxyOptions, 'frontend' | 'connect'> & Partial<Pick<ProxyOptions, 'frontend' | 'connect'>>): Promise<TestProxy> {
  const log = recordingLogger()
  const proxy = createProxy({ frontend: { host: '127.0.0.1', port: 0 }, connect: plainConnector(), logger: log, ...options })
  const { port } = await proxy.listen()
  scope.teardown(() => proxy.close(0))
  return { proxy, port, log }
}

/** Returns a promise and the function that resolves it (a gate a test opens by hand). */
export function gate (): { opened: Promise<void>, open: () => void } {
  let open = (): void => {}
  const opened = new Promise<void>((resolve) => { open = resolve })
  return { opened, open }
}
