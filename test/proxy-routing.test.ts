import t from 'tap'
import { connect } from 'node:net'
import { Writable } from 'node:stream'
import { pino } from 'pino'
import { createProxy, type ReverseProxy } from '../src/proxy/proxy.ts'
import { plainConnector } from '../src/proxy/plain-connector.ts'
import { fetchText, startBackend, testService, type TestBackend } from '../src/proxy/test-support.ts'
import type { ConnectFn, ProxyLogger, ProxyOptions } from '../src/proxy/types.ts'

interface Scope { teardown: (fn: () => unknown) => void }
interface Started { proxy: ReverseProxy, port: number, lines: Array<Record<string, unknown>> }

async function start (t: Scope, options: Omit<ProxyOptions, 'frontend' | 'connect'>): Promise<Started> {
  const lines: Array<Record<string, unknown>> = []
  // A real pino logger writing JSON lines, so the access log is tested as emitted.
  const sink = new Writable({ write (chunk: Buffer, _enc, cb) { lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>); cb() } })
  const logger: ProxyLogger = pino({ base: null }, sink)
  const proxy = createProxy({ frontend: { host: '127.0.0.1', port: 0 }, connect: plainConnector(), logger, ...options })
  const { port } = await proxy.listen()
  t.teardown(() => proxy.close(0))
  return { proxy, port, lines }
}

async function backends (t: Scope, ...names: string[]): Promise<TestBackend[]> {
  const list = await Promise.all(names.map((n) => startBackend(n)))
  t.teardown(() => Promise.all(list.map((b) => b.close())))
  return list
}

t.test('routes by host and path through the url map', async (t) => {
  const [web, v1, users, wild] = await backends(t, 'web', 'v1', 'users', 'wild')
  const { port, lines } = await start(t, {
    services: [testService('web', [web!]), testService('v1', [v1!]), testService('users', [users!]), testService('wild', [wild!])],
    urlMap: {
      defaultService: 'web',
      hostRules: [{ hosts: ['api.example.test'], pathMatcher: 'api' }, { hosts: ['*.example.com'], pathMatcher: 'wild' }],
      pathMatchers: [
        { name: 'api', defaultService: 'web', pathRules: [{ paths: ['/v1/*'], service: 'v1' }, { paths: ['/v1/users/*'], service: 'users' }] },
        { name: 'wild', defaultService: 'wild' }
      ]
    }
  })
  const cases: Array<[string, string, string]> = [
    ['api.example.test:8080', '/v1/items?x=1', 'v1 GET /v1/items?x=1'],
    ['api.example.test', '/v1/users/7', 'users GET /v1/users/7'],
    ['api.example.test', '/other', 'web GET /other'],
    ['a.b.example.com', '/v1/items', 'wild GET /v1/items'],
    ['unknown.test', '/v1/items', 'web GET /v1/items']
  ]
  for (const [host, path, want] of cases) {
    const res = await fetchText(port, path, { host })
    t.equal(res.status, 200, `${host}${path} status`)
    t.equal(res.body, want, `${host}${path} served by the right service`)
  }
  t.equal(lines.filter((l) => l.msg === 'request').length, cases.length, 'one access-log line per request')
  const line = lines.find((l) => l.path === '/v1/users/7')
  t.match(line, {
    msg: 'request', method: 'GET', path: '/v1/users/7', service: 'users',
    endpoint: `127.0.0.1:${users!.port}`, status: 200, durationMs: Number, backendSpiffeId: null
  })
})

t.test('404 when the url map routes nowhere', async (t) => {
  const [web] = await backends(t, 'web')
  const { port, lines } = await start(t, {
    services: [testService('web', [web!])],
    urlMap: { hostRules: [{ hosts: ['a.test'], pathMatcher: 'm' }], pathMatchers: [{ name: 'm', pathRules: [{ paths: ['/x'], service: 'web' }] }] }
  })
  const miss = await fetchText(port, '/y', { host: 'a.test' })
  t.equal(miss.status, 404)
  t.equal(miss.body, 'no route for host "a.test" path "/y"\n')
  t.equal((await fetchText(port, '/x', { host: 'b.test' })).status, 404, 'no default service')
  t.equal((await fetchText(port, '/x', { host: 'a.test' })).status, 200)
  t.equal(web!.seen.length, 1, 'only the routed request reached the backend')
  t.match(lines.find((l) => l.status === 404), { service: '', endpoint: '', status: 404 })
})

t.test('strips hop-by-hop headers both ways and sets X-Forwarded-*', async (t) => {
  const [web] = await Promise.all([startBackend('web', (req, res) => {
    res.setHeader('connection', 'keep-alive, x-backend-hop')
    res.setHeader('keep-alive', 'timeout=77')
    res.setHeader('x-backend-hop', 'secret')
    res.setHeader('proxy-authenticate', 'Basic')
    res.setHeader('upgrade', 'h2c')
    res.setHeader('x-kept', 'yes')
    res.setHeader('set-cookie', ['a=1', 'b=2'])
    res.end(JSON.stringify(req.headers))
  })])
  t.teardown(() => web.close())
  const { port } = await start(t, { services: [testService('web', [web])], urlMap: { defaultService: 'web' } })
  const res = await fetchText(port, '/h', {
    host: 'front.test:8080',
    headers: {
      connection: 'keep-alive, x-client-hop',
      'x-client-hop': 'drop me',
      'keep-alive': 'timeout=9',
      'proxy-authorization': 'Basic Zm9v',
      // `TE: trailers` alone passes (gRPC needs it, RFC 9113 §8.2.2); any other TE is hop-by-hop.
      te: 'gzip',
      'x-forwarded-for': '203.0.113.7',
      'x-forwarded-proto': 'ftp',
      'x-forwarded-host': 'spoofed.test',
      'x-end-to-end': 'kept'
    }
  })
  const seen = JSON.parse(res.body) as Record<string, string>
  for (const h of ['x-client-hop', 'keep-alive', 'proxy-authorization', 'te']) t.notOk(h in seen, `request ${h} dropped`)
  t.equal(seen['x-end-to-end'], 'kept')
  t.equal(seen.host, 'front.test:8080', 'Host is preserved')
  t.equal(seen['x-forwarded-for'], '203.0.113.7, 127.0.0.1', 'client appended to X-Forwarded-For')
  t.equal(seen['x-forwarded-proto'], 'http')
  t.equal(seen['x-forwarded-host'], 'front.test:8080')
  for (const h of ['x-backend-hop', 'proxy-authenticate', 'upgrade']) t.notOk(h in res.headers, `response ${h} dropped`)
  t.not(res.headers['keep-alive'], 'timeout=77', "backend's Keep-Alive not forwarded")
  t.equal(res.headers['x-kept'], 'yes')
  t.same(res.headers['set-cookie'], ['a=1', 'b=2'])
})

t.test('forwards request bodies of known and chunked length', async (t) => {
  const web = await startBackend('web', (req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => { res.end(`${req.headers['content-length'] ?? 'chunked'}:${Buffer.concat(chunks).toString()}`) })
  })
  t.teardown(() => web.close())
  const { port } = await start(t, { services: [testService('web', [web])], urlMap: { defaultService: 'web' } })
  t.equal((await fetchText(port, '/p', { method: 'POST', body: 'hello world' })).body, '11:hello world')
  t.equal((await fetchText(port, '/p', { method: 'PUT', body: 'x'.repeat(100_000) })).body, `100000:${'x'.repeat(100_000)}`)
  t.equal((await fetchText(port, '/p', { method: 'POST', headers: { 'transfer-encoding': 'chunked' }, body: 'abc' })).body, 'chunked:abc')
})

const pooling: Array<[string, { maxRequestsPerConnection: number, keepAlive: boolean }, number]> = [
  ['keep-alive reuses one connection', { maxRequestsPerConnection: 0, keepAlive: true }, 1],
  ['maxRequestsPerConnection 2 opens a new connection every 2 requests', { maxRequestsPerConnection: 2, keepAlive: true }, 3],
  ['keepAlive false opens one connection per request', { maxRequestsPerConnection: 0, keepAlive: false }, 5]
]
for (const [name, connectionPool, want] of pooling) {
  t.test(`connection pool: ${name}`, async (t) => {
    const [web] = await backends(t, 'web')
    const { port } = await start(t, { services: [testService('web', [web!], { connectionPool })], urlMap: { defaultService: 'web' } })
    for (let i = 0; i < 5; i++) t.equal((await fetchText(port, `/${i}`)).status, 200)
    t.equal(web!.connections(), want)
  })
}

t.test('an absolute-form request target is routed and forwarded in origin form', async (t) => {
  const [web, v1] = await backends(t, 'web', 'v1')
  const { port } = await start(t, {
    services: [testService('web', [web!]), testService('v1', [v1!])],
    urlMap: { defaultService: 'web', hostRules: [{ hosts: ['*'], pathMatcher: 'm' }], pathMatchers: [{ name: 'm', defaultService: 'web', pathRules: [{ paths: ['/v1/*'], service: 'v1' }] }] }
  })
  const raw = await new Promise<string>((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => { s.write('GET http://a.test/v1/x?q=1 HTTP/1.1\r\nHost: a.test\r\nConnection: close\r\n\r\n') })
    let text = ''
    s.on('data', (c: Buffer) => { text += c.toString() })
    s.on('end', () => { resolve(text) })
    s.on('error', reject)
  })
  t.match(raw, /^HTTP\/1\.1 200 /)
  t.match(raw, /\r\nv1 GET \/v1\/x\?q=1\r\n/, 'the backend saw the origin-form target')
})

t.test('each service may bring its own connector (its own identity); one is required', async (t) => {
  const [web, api] = await backends(t, 'web', 'api')
  const used: string[] = []
  const counting = (label: string): ConnectFn => {
    const inner = plainConnector()
    return (opts, cb) => { used.push(`${label}:${opts.port}`); inner(opts, cb) }
  }
  const { port } = await start(t, {
    services: [testService('web', [web!], { connect: counting('web') }), testService('api', [api!])],
    urlMap: { defaultService: 'web', hostRules: [{ hosts: ['api.test'], pathMatcher: 'm' }], pathMatchers: [{ name: 'm', defaultService: 'api' }] }
  })
  t.equal((await fetchText(port, '/')).body, 'web GET /')
  t.equal((await fetchText(port, '/', { host: 'api.test' })).body, 'api GET /')
  t.same(used, [`web:${web!.port}`], 'the service connector served web; api used the proxy default')
  t.throws(() => createProxy({
    frontend: { host: '127.0.0.1', port: 0 },
    services: [testService('web', [web!])],
    urlMap: { defaultService: 'web' }
  }), { code: 'ERR_SPIFFE_PROXY_NO_CONNECTOR', at: 'services[0].connect' })
})
