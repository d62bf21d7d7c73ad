// Limits: backend service circuit breakers answer 503 with the limit reached, outlier detection
// ejects an endpoint after consecutive gateway failures (also a hanging one), and the frontend
// limits close slowloris and surplus connections while the admin listener keeps answering.
import { mkdtemp, rm } from 'node:fs/promises'
import { connect, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import pino from 'pino'
import t from 'tap'
import { startServer } from '../src/runtime/bootstrap.ts'
import { parseConfig } from '../src/config/load.ts'
import { baseDoc, edit, rootPem } from '../src/config/testing/config-fixtures.ts'
import { DEFAULT_OUTLIER_DETECTION } from '../src/proxy/limits.ts'
import { eventually, fetchText, gate, startBackend, startTestProxy, testService, type BackendHandler } from '../src/proxy/test-support.ts'
import type { ProxyMetrics } from '../src/proxy/types.ts'

function recordingMetrics (): ProxyMetrics & { trips: string[] } {
  const trips: string[] = []
  return {
    trips,
    observeRequest: () => {},
    setEndpointHealthy: () => {},
    removeEndpoint: () => {},
    observeCircuitBreaker: (service, reason) => { trips.push(`${service}:${reason}`) }
  }
}

/** A backend that holds every request until `release()`. */
function holding (): { handler: BackendHandler, release: () => void } {
  const { opened, open } = gate()
  return {
    handler: (req, res, name) => { void opened.then(() => { res.writeHead(200).end(`${name} ${req.url ?? ''}`) }) },
    release: open
  }
}

t.test('circuitBreakers.maxRequests: 503 with the limit named, counted by reason', async (t) => {
  const hold = holding()
  const backend = await startBackend('b', hold.handler)
  t.teardown(() => backend.close())
  const metrics = recordingMetrics()
  const { port } = await startTestProxy(t, {
    services: [testService('web', [backend], { circuitBreakers: { maxRequests: 2 } })],
    urlMap: { defaultService: 'web' },
    metrics
  })
  const first = [fetchText(port, '/1'), fetchText(port, '/2')]
  await eventually(() => backend.seen.length === 2, 'two requests at the backend')
  const refused = await fetchText(port, '/3')
  t.equal(refused.status, 503)
  t.match(refused.body, /backend service web circuit breaker open: maxRequests \(2\) reached/)
  t.same(metrics.trips, ['web:maxRequests'])
  hold.release()
  t.same((await Promise.all(first)).map((r) => r.status), [200, 200])
  t.equal((await fetchText(port, '/4')).status, 200, 'below the limit again')
})

t.test('circuitBreakers.maxConnections and maxPendingRequests bound connections and the queue', async (t) => {
  const hold = holding()
  const backend = await startBackend('b', hold.handler)
  t.teardown(() => backend.close())
  const { port } = await startTestProxy(t, {
    services: [testService('web', [backend], { circuitBreakers: { maxConnections: 1, maxPendingRequests: 1 } })],
    urlMap: { defaultService: 'web' }
  })
  const running = fetchText(port, '/1')
  await eventually(() => backend.seen.length === 1, 'the first request at the backend')
  // One of the next two waits for the only connection; the other finds the queue full and is
  // answered at once, while the waiting one is still held.
  const next = [fetchText(port, '/2'), fetchText(port, '/3')]
  const first = await Promise.race(next)
  t.equal(first.status, 503)
  t.match(first.body, /maxPendingRequests \(1\) reached/)
  hold.release()
  t.same((await Promise.all(next)).map((r) => r.status).sort(), [200, 503], 'the queued one is served')
  t.equal((await running).status, 200)
  t.equal(backend.connections(), 1, 'never more than maxConnections connections')
})

t.test('circuitBreakers.maxRetries 0: a failed connect is not retried elsewhere', async (t) => {
  const dead = await startBackend('dead')
  await dead.kill()
  const alive = await startBackend('alive')
  t.teardown(() => alive.close())
  const run = async (maxRetries: number | undefined): Promise<number> => {
    const scope: Array<() => unknown> = []
    const { port } = await startTestProxy({ teardown: (fn) => scope.push(fn) }, {
      services: [testService('web', [dead, alive], maxRetries === undefined ? {} : { circuitBreakers: { maxRetries } })],
      urlMap: { defaultService: 'web' }
    })
    const status = (await fetchText(port, '/')).status
    for (const fn of scope) await fn()
    return status
  }
  t.equal(await run(undefined), 200, 'by default the connect failure is retried on the other endpoint')
  t.equal(await run(0), 502, 'maxRetries 0: no retry')
})

t.test('outlierDetection ejects after consecutive gateway failures, a hanging backend too', async (t) => {
  let failing = 0
  const bad = await startBackend('bad', (_req, res) => { failing++; res.writeHead(502).end('bad gateway') })
  const hanging = await startBackend('hanging', () => { /* never answers */ })
  const good = await startBackend('good')
  t.teardown(async () => { await bad.close(); await hanging.close(); await good.close() })
  const { port, proxy, log } = await startTestProxy(t, {
    services: [testService('web', [bad, hanging, good], {
      timeoutMs: 300,
      outlierDetection: { ...DEFAULT_OUTLIER_DETECTION, consecutiveGatewayFailure: 2, baseEjectionTimeMs: 600_000, maxEjectionPercent: 100 }
    })],
    urlMap: { defaultService: 'web' }
  })
  const health = (): Record<string, boolean> => Object.fromEntries(proxy.status().services[0]?.endpoints.map((e) => [e.endpoint, e.healthy]) ?? [])
  for (let i = 0; i < 12; i++) await fetchText(port, `/${i}`)
  const h = health()
  t.equal(h[`127.0.0.1:${bad.port}`], false, 'the endpoint answering 502 is ejected')
  t.equal(h[`127.0.0.1:${hanging.port}`], false, 'the endpoint that never answers is ejected')
  t.equal(h[`127.0.0.1:${good.port}`], true)
  t.equal(failing, 2, 'the failing endpoint got exactly consecutiveGatewayFailure requests')
  t.ok(log.entries.some((e) => e.msg === 'endpoint unhealthy' && /2 consecutive gateway failures/.test(String(e.reason))))
  for (let i = 0; i < 5; i++) t.equal((await fetchText(port, '/after')).status, 200, 'only the good endpoint serves now')
})

t.test('frontend limits: slowloris and surplus connections are closed; admin keeps answering', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'spiffe-lb-limits-'))
  t.teardown(async () => { await rm(dir, { recursive: true, force: true }) })
  const doc = edit(baseDoc(await rootPem()),
    [['credentials'], { source: 'issuer', stateDir: join(dir, 'state') }],
    [['frontend'], { listen: '127.0.0.1:0', limits: { maxConnections: 10, headersTimeout: '1s', maxHeaderSize: 2048 } }],
    [['admin'], { listen: '127.0.0.1:0' }])
  const parsed = parseConfig(JSON.stringify(doc), { source: join(dir, 'config.json'), baseDir: dir })
  if (!parsed.ok) { t.fail(JSON.stringify(parsed.errors)); return }
  t.same(parsed.config.frontend.limits, { maxConnections: 10, headersTimeoutMs: 1000, maxHeaderSize: 2048 })
  const quiet = new Writable({ write (_c, _e, done) { done() } })
  const server = await startServer(parsed.config, { logger: pino({ level: 'silent' }, quiet) })
  t.teardown(() => server.close(0))
  const { port } = server.proxyAddress
  const admin = `http://127.0.0.1:${server.adminAddress.port}`

  const open = async (): Promise<{ socket: Socket, closed: Promise<string> }> => {
    const socket = connect(port, '127.0.0.1')
    let answer = ''
    socket.on('data', (d: Buffer) => { answer += d.toString() })
    socket.on('error', () => {})
    const closed = new Promise<string>((resolve) => socket.once('close', () => { resolve(answer) }))
    await new Promise<void>((resolve) => socket.once('connect', resolve))
    socket.write('GET /slow HTTP/1.1\r\nHost: x\r\n') // headers never finish
    return { socket, closed }
  }
  const slow = []
  for (let i = 0; i < 10; i++) slow.push(await open())
  const surplus = await open()
  t.equal(await surplus.closed, '', 'the connection past maxConnections is closed without an answer')
  const healthz = await fetch(`${admin}/healthz`)
  t.equal(healthz.status, 200, 'the admin listener answers while the frontend is saturated')
  const answers = await Promise.all(slow.map(async (s) => await s.closed))
  t.ok(answers.every((a) => a === '' || a.startsWith('HTTP/1.1 408')), 'every slowloris connection was closed after headersTimeout')
  const big = await fetchText(port, '/', { headers: { 'x-big': 'a'.repeat(4096) } })
  t.equal(big.status, 431, 'a head past maxHeaderSize is refused')
  const normal = await fetchText(port, '/hello')
  t.ok(normal.status >= 200, `the frontend answers again: ${normal.status}`)
  const metrics = await (await fetch(`${admin}/metrics`)).text()
  const hits = (limit: string): number => Number(new RegExp(`^spiffe_lb_frontend_limit_hits_total\\{limit="${limit}"\\} (\\d+)$`, 'm').exec(metrics)?.[1] ?? 0)
  t.ok(hits('headersTimeout') >= 1, `slowloris heads counted as headersTimeout hits: ${hits('headersTimeout')}`)
  t.equal(hits('maxHeaderSize'), 1, 'the oversized head counted once as a maxHeaderSize hit')
})
