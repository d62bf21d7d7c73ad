// gRPC end to end through the proxy with @grpc/grpc-js as the client (h2c to the cleartext
// frontend) and as an mTLS backend: the standard health service (Check, Watch), unary,
// server-streaming and bidirectional calls, status trailers passed through, the service
// timeout as DEADLINE_EXCEEDED, and an untrusted backend as UNAVAILABLE with the SPIFFE reason.
import t from 'tap'
import * as grpc from '@grpc/grpc-js'
import { service as healthService } from 'grpc-health-check'
import { issueSvidCertificate } from '../src/pki/index.ts'
import { createBackendConnector } from '../src/tls/backend-connector.ts'
import { startEchoBackend } from '../src/testbed/echo-backend.ts'
import { ECHO_SERVICE } from '../src/testbed/echo-grpc.ts'
import { startTestProxy, testService } from '../src/proxy/test-support.ts'
import { TestSnapshots, makeDomain, makeSvid, type Domain } from './tls-fixtures.ts'

const [a, evil] = await Promise.all([makeDomain('a.test'), makeDomain('evil.test')])
const echo = await startEchoBackend({ listen: '127.0.0.1:0', name: 'echo', snapshots: new TestSnapshots(await makeSvid(a, '/backend/echo'), [a.bundle]) })
t.teardown(() => echo.close(0))

/** A grpc-js server over mTLS presenting an SVID of `domain`, requiring a client cert of a.test. */
async function grpcJsBackend (domain: Domain): Promise<{ port: number }> {
  const issued = await issueSvidCertificate(domain.ca, { uri: `spiffe://${domain.name}/backend/grpc-js`, lifetimeMs: 3_600_000, notBefore: Date.now() - 60_000 })
  const server = new grpc.Server()
  server.addService(healthService, {
    check: (_call: grpc.ServerUnaryCall<unknown, unknown>, cb: grpc.sendUnaryData<unknown>) => { cb(null, { status: 'SERVING' }) }
  })
  server.addService(ECHO_SERVICE, {
    serverStream: (call: grpc.ServerWritableStream<Buffer, Buffer>) => { for (let i = 0; i < 3; i++) call.write(Buffer.from(`grpc-js ${i}`)); call.end() }
  })
  const creds = grpc.ServerCredentials.createSsl(Buffer.from(a.ca.certPem), [{ cert_chain: Buffer.from(issued.chainPem), private_key: Buffer.from(issued.keyPem) }], true)
  const port = await new Promise<number>((resolve, reject) => { server.bindAsync('127.0.0.1:0', creds, (err, p) => { if (err !== null) reject(err); else resolve(p) }) })
  t.teardown(() => { server.forceShutdown() })
  return { port }
}
const trustedGrpcJs = await grpcJsBackend(a)
const untrustedGrpcJs = await grpcJsBackend(evil)

const connect = createBackendConnector({ snapshots: new TestSnapshots(await makeSvid(a, '/lb'), [a.bundle]) })
t.teardown(() => { connect.close() })
const names = ['echo', 'grpcjs', 'untrusted', 'slow'] as const
const ports = { echo: echo.port, grpcjs: trustedGrpcJs.port, untrusted: untrustedGrpcJs.port, slow: echo.port }
const { port } = await startTestProxy(t, {
  connect,
  services: names.map((n) => testService(n, [{ port: ports[n] }], { protocol: 'HTTP2', timeoutMs: n === 'slow' ? 500 : 10_000 })),
  urlMap: { defaultService: 'echo', hostRules: names.map((n) => ({ hosts: [`${n}.test`], pathMatcher: n })), pathMatchers: names.map((n) => ({ name: n, defaultService: n })) }
})

const Health = grpc.makeGenericClientConstructor(healthService, 'Health')
const Echo = grpc.makeGenericClientConstructor(ECHO_SERVICE, 'Echo')
const clients: grpc.Client[] = []
t.teardown(() => { for (const c of clients) c.close() })
function client<C extends grpc.Client> (Ctor: new (address: string, creds: grpc.ChannelCredentials, options: object) => C, host: string): C {
  const c = new Ctor(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), { 'grpc.default_authority': host })
  clients.push(c)
  return c
}
type Unary = (req: unknown, cb: (err: grpc.ServiceError | null, res: unknown) => void) => void
const call = async (c: grpc.Client, method: string, req: unknown): Promise<unknown> =>
  await new Promise((resolve, reject) => { ((c as unknown as Record<string, Unary>)[method] as Unary).call(c, req, (err, res) => { if (err !== null) reject(err); else resolve(res) }) })
const collect = async (stream: grpc.ClientReadableStream<Buffer>): Promise<string[]> => {
  const out: string[] = []
  for await (const m of stream) out.push((m as Buffer).toString())
  return out
}

t.test('health Check and Watch of the test backend through the proxy', async (t) => {
  const health = client(Health, 'echo.test')
  t.same(await call(health, 'check', { service: '' }), { status: 'SERVING' })
  const watch = (health as unknown as { watch: (req: unknown) => grpc.ClientReadableStream<{ status: string }> }).watch({ service: 'spiffe_lb.test.Echo' })
  const first = await new Promise<{ status: string }>((resolve) => { watch.once('data', resolve) })
  t.same(first, { status: 'SERVING' })
  watch.on('error', () => {})
  watch.cancel()
})

t.test('unary, server-streaming and bidirectional calls; status trailers pass through', async (t) => {
  const e = client(Echo, 'echo.test')
  t.same(await call(e, 'unary', Buffer.from('hi')), Buffer.from('hi'))
  const err = await call(e, 'unary', Buffer.from('status:7:denied by the backend')).catch((x: unknown) => x) as grpc.ServiceError
  t.equal(err.code, 7, 'grpc-status 7 from the backend trailers')
  t.equal(err.details, 'denied by the backend')
  const streamed = await collect((e as unknown as { serverStream: (r: Buffer) => grpc.ClientReadableStream<Buffer> }).serverStream(Buffer.from([5])))
  t.equal(streamed.length, 5)
  const bidi = (e as unknown as { bidi: () => grpc.ClientDuplexStream<Buffer, Buffer> }).bidi()
  const got: string[] = []
  for (const word of ['one', 'two', 'three']) {
    bidi.write(Buffer.from(word))
    got.push(await new Promise<string>((resolve) => { bidi.once('data', (m: Buffer) => { resolve(m.toString()) }) }))
  }
  bidi.end()
  t.same(got, ['one', 'two', 'three'], 'each message echoed before the next was sent')
})

t.test('a grpc-js mTLS backend: health check and a server stream', async (t) => {
  t.same(await call(client(Health, 'grpcjs.test'), 'check', { service: '' }), { status: 'SERVING' })
  const e = client(Echo, 'grpcjs.test')
  t.same(await collect((e as unknown as { serverStream: (r: Buffer) => grpc.ClientReadableStream<Buffer> }).serverStream(Buffer.from([1]))), ['grpc-js 0', 'grpc-js 1', 'grpc-js 2'])
})

t.test('an untrusted gRPC backend: UNAVAILABLE with the SPIFFE reason', async (t) => {
  const err = await call(client(Health, 'untrusted.test'), 'check', { service: '' }).catch((x: unknown) => x) as grpc.ServiceError
  t.equal(err.code, grpc.status.UNAVAILABLE)
  t.match(err.details, /rejected: .*no trust bundle for trust domain "evil\.test".*\(ERR_SPIFFE_VERIFY_NO_BUNDLE\)/)
})

t.test('the service timeout ends a call with DEADLINE_EXCEEDED', async (t) => {
  const err = await call(client(Echo, 'slow.test'), 'unary', Buffer.from('hang')).catch((x: unknown) => x) as grpc.ServiceError
  t.equal(err.code, grpc.status.DEADLINE_EXCEEDED)
  t.match(err.details, /backend .* timed out/)
})
