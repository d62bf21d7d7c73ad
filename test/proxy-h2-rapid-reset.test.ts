// HTTP/2 abuse through the frontend, as raw frames: rapid reset (HEADERS + RST_STREAM in
// batches) and storms of streams cancelled at once, against HTTP2 and HTTPS backend services.
// The proxy must survive (an unhandled error on a backend stream used to take the process down
// once the pool's idle connection closed), must not forward what the client cancelled, and must
// send GOAWAY ENHANCE_YOUR_CALM to a client past frontend.limits.http2MaxResetStreams.
import t, { type Test } from 'tap'
import http2 from 'node:http2'
import { createMetrics } from '../src/admin/metrics.ts'
import { createBackendConnector } from '../src/tls/backend-connector.ts'
import { startEchoBackend } from '../src/testbed/echo-backend.ts'
import { fetchText, startTestProxy, testService, type TestProxy } from '../src/proxy/test-support.ts'
import type { FrontendLimits, ServiceOptions } from '../src/proxy/types.ts'
import { H2_ERROR, cancelStorm, rapidReset, rawH2 } from './h2-raw-client.ts'
import { TestSnapshots, makeDomain, makeSvid } from './tls-fixtures.ts'

const a = await makeDomain('a.test')
const backend = await startEchoBackend({ listen: '127.0.0.1:0', name: 'echo', snapshots: new TestSnapshots(await makeSvid(a, '/backend/echo'), [a.bundle]) })
t.teardown(() => backend.close(0))
const connect = createBackendConnector({ snapshots: new TestSnapshots(await makeSvid(a, '/lb'), [a.bundle]) })
t.teardown(() => { connect.close() })

async function proxy (t: Test, protocol: NonNullable<ServiceOptions['protocol']>, limits: Partial<FrontendLimits> = {}): Promise<TestProxy & { hits: () => Promise<number> }> {
  const metrics = createMetrics()
  const started = await startTestProxy(t, {
    connect,
    metrics,
    frontend: { host: '127.0.0.1', port: 0, limits },
    // A short backend idle timeout: undici closes the idle HTTP/2 session soon after the storm,
    // which is what used to destroy orphaned backend streams with nobody listening.
    services: [testService('svc', [backend], { protocol, connectionPool: { maxRequestsPerConnection: 0, keepAlive: true, keepAliveTimeoutMs: 150 } })],
    urlMap: { defaultService: 'svc' }
  })
  const hits = async (): Promise<number> => {
    const values = (await metrics.frontendLimitHits.get()).values
    return values.find((v) => v.labels.limit === 'http2MaxResetStreams')?.value ?? 0
  }
  return { ...started, hits }
}

/** One h2c GET; resolves with its status. */
async function h2Get (port: number, path: string): Promise<number> {
  const session = http2.connect(`http://127.0.0.1:${port}`)
  session.on('error', () => {})
  try {
    return await new Promise<number>((resolve, reject) => {
      const req = session.request({ ':path': path, ':authority': 'web.test' })
      req.on('response', (h) => { resolve(Number(h[':status'])) })
      req.on('error', reject)
      req.resume()
      req.end()
    })
  } finally { session.close() }
}

const sleep = async (ms: number): Promise<void> => { await new Promise((resolve) => setTimeout(resolve, ms)) }

for (const protocol of ['HTTP2', 'HTTPS'] as const) {
  t.test(`${protocol} service: rapid reset is cut with GOAWAY ENHANCE_YOUR_CALM and not forwarded`, async (t) => {
    const { port, log, hits } = await proxy(t, protocol, { http2MaxResetStreams: 50 })
    const before = backend.stats().requests
    const client = await rawH2(port)
    const sent = await rapidReset(client, { batch: 10, maxStreams: 5000 })
    await client.closed
    t.equal(client.events.goaway, H2_ERROR.ENHANCE_YOUR_CALM, `GOAWAY ENHANCE_YOUR_CALM after ${sent} reset streams`)
    t.ok(sent < 5000, 'the proxy closed the connection')
    const forwarded = backend.stats().requests - before
    t.ok(forwarded < 50, `the backend saw ${forwarded} of ${sent} reset requests`)
    t.equal(await hits(), 1, 'spiffe_lb_frontend_limit_hits_total{limit="http2MaxResetStreams"} counted it')
    t.ok(log.entries.some((e) => e.level === 'warn' && e.limit === 'http2MaxResetStreams'), 'logged once')
    t.equal(await h2Get(port, '/after'), 200, 'h2c clients are still served')
    t.equal((await fetchText(port, '/after')).status, 200, 'HTTP/1.1 clients are still served')
  })

  t.test(`${protocol} service: storms of streams cancelled at once, then idle, leave the proxy serving`, async (t) => {
    const { port, hits } = await proxy(t, protocol)
    // The reset lands at various points of the backend exchange: queued, sent, answered. A
    // request first opens the backend connection, so the storm is forwarded at once.
    for (const delayMs of [0, 1, 1, 2, 2, 3, 4, 6]) {
      t.equal(await h2Get(port, '/warm'), 200)
      const client = await rawH2(port)
      await cancelStorm(client, 100, delayMs)
      await sleep(250) // past the backend pool's idle timeout
      t.notOk(client.events.closed, `storm after ${delayMs} ms: 100 cancelled streams are within the budget`)
      client.close()
    }
    t.equal(await hits(), 0)
    t.equal(await h2Get(port, '/after'), 200, 'still serving')
  })
}
