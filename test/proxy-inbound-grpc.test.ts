// gRPC through the inbound listener: a grpc-js client presenting its SVID over TLS (h2 by ALPN)
// to spiffe-lb's inbound frontend, forwarded over SPIFFE mTLS to an HTTP2 backend; a client
// without a certificate gets no call through.
import * as grpc from '@grpc/grpc-js'
import { service as healthService } from 'grpc-health-check'
import t from 'tap'
import { systemClock } from '../src/internal/clock.ts'
import { createProxy } from '../src/proxy/proxy.ts'
import { createBackendConnector } from '../src/tls/backend-connector.ts'
import { createClientVerifier } from '../src/tls/client-verifier.ts'
import { startEchoBackend } from '../src/testbed/echo-backend.ts'
import { TestSnapshots, makeDomain, makeSvid } from './tls-fixtures.ts'

const a = await makeDomain('a.test')
const echo = await startEchoBackend({ listen: '127.0.0.1:0', name: 'echo', snapshots: new TestSnapshots(await makeSvid(a, '/backend/echo'), [a.bundle]) })
t.teardown(() => echo.close(0))
const listener = new TestSnapshots(await makeSvid(a, '/ns/app/sa/inbound'), [a.bundle])
const connect = createBackendConnector({ snapshots: listener })
t.teardown(() => { connect.close() })
const proxy = createProxy({
  frontend: { host: '127.0.0.1', port: 0, inbound: { verifier: createClientVerifier({ snapshots: listener }), mode: 'REJECT_INVALID', clock: systemClock } },
  services: [{ name: 'echo', endpoints: [{ host: '127.0.0.1', port: echo.port }], policy: 'ROUND_ROBIN', timeoutMs: 10_000, protocol: 'HTTP2', connectionPool: { maxRequestsPerConnection: 0, keepAlive: true }, connect }],
  urlMap: { defaultService: 'echo' }
})
const { port } = await proxy.listen()
t.teardown(async () => { await proxy.close(0) })

const Health = grpc.makeGenericClientConstructor(healthService, 'Health')
const caller = await makeSvid(a, '/ns/lb/sa/caller')
// The listener's SVID names no DNS host: the client checks the chain, not a host name.
const noHostCheck = { checkServerIdentity: () => undefined }
const check = async (creds: grpc.ChannelCredentials): Promise<unknown> => {
  const c = new Health(`127.0.0.1:${port}`, creds, { 'grpc.default_authority': 'app.test' })
  try {
    return await new Promise((resolve, reject) => {
      (c as unknown as { check: (r: unknown, o: object, cb: (e: grpc.ServiceError | null, r: unknown) => void) => void })
        .check({ service: '' }, { deadline: Date.now() + 10_000 }, (err, res) => { if (err !== null) reject(err); else resolve(res) })
    })
  } finally { c.close() }
}

t.test('a gRPC health check with the caller\'s SVID goes through; without a certificate it does not', async (t) => {
  const res = await check(grpc.credentials.createSsl(Buffer.from(a.ca.certPem), Buffer.from(caller.privateKeyPem()), Buffer.from(caller.chainPem()), noHostCheck))
  t.match(res, { status: 'SERVING' })
  await t.rejects(check(grpc.credentials.createSsl(Buffer.from(a.ca.certPem), null, null, noHostCheck)), { code: grpc.status.UNAVAILABLE })
})
