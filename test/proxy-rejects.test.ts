// Through the proxy with the real SPIFFE connector: backends whose SVIDs must be refused get a
// 502 whose one-line body names the verifier's precise code, and never receive a request byte.
import t from 'tap'
import { issueSvidCertificate } from '../src/pki/index.ts'
import { createBackendConnector, type HandshakeEvent } from '../src/tls/backend-connector.ts'
import { fetchText, startTestProxy, testService } from '../src/proxy/test-support.ts'
import { TestSnapshots, makeDomain, makeSvid, startRawBackend, type RawBackend } from './tls-fixtures.ts'

const [a, b] = await Promise.all([makeDomain('a.test'), makeDomain('b.test')])
const lbSvid = await makeSvid(a, '/lb/frontend')

async function raw (chainPem: string, keyPem: string): Promise<RawBackend> {
  const backend = await startRawBackend(chainPem, keyPem)
  t.teardown(() => backend.close())
  return backend
}

// (a) claims a.test but is signed by b.test's CA, while b.test's bundle is trusted as well.
const crossSigned = await issueSvidCertificate(b.ca, { uri: 'spiffe://a.test/backend/cross', lifetimeMs: 3_600_000, notBefore: Date.now() - 60_000 })
// (b) a correctly issued a.test SVID whose validity ended an hour ago.
const expired = await issueSvidCertificate(a.ca, { uri: 'spiffe://a.test/backend/expired', lifetimeMs: 3_600_000, notBefore: Date.now() - 2 * 3_600_000 })
// A control: a good a.test SVID, so the refusals are not an artefact of the setup.
const good = await makeSvid(a, '/backend/good')

const backends = {
  cross: await raw(crossSigned.chainPem, crossSigned.keyPem),
  expired: await raw(expired.chainPem, expired.keyPem),
  good: await raw(good.chainPem(), good.privateKeyPem())
}

const handshakes: HandshakeEvent[] = []
const connector = createBackendConnector({
  snapshots: new TestSnapshots(lbSvid, [a.bundle, b.bundle]),
  onHandshake: (e) => { handshakes.push(e) }
})
t.teardown(() => { connector.close() })
const names = Object.keys(backends) as Array<keyof typeof backends>
const { port } = await startTestProxy(t, {
  connect: connector,
  services: names.map((n) => testService(n, [backends[n]], { protocol: 'HTTPS' })),
  urlMap: {
    hostRules: names.map((n) => ({ hosts: [`${n}.test`], pathMatcher: n })),
    pathMatchers: names.map((n) => ({ name: n, defaultService: n }))
  }
})

t.test('control: the raw backend with a good SVID passes verification', async (t) => {
  await fetchText(port, '/', { host: 'good.test' }) // the raw backend speaks no HTTP: any status
  t.ok(handshakes.some((e) => e.endpoint === `127.0.0.1:${backends.good.port}` && e.result === 'ok'),
    'the connector accepted the good backend')
  t.ok(backends.good.bytesReceived() > 0, 'the request reached it')
})

const cases: Array<[keyof typeof backends, string, string]> = [
  ['cross', 'ERR_SPIFFE_VERIFY_NO_PATH', 'an a.test SVID signed by the trusted b.test CA'],
  ['expired', 'ERR_SPIFFE_SVID_EXPIRED', 'an expired SVID']
]
for (const [name, code, what] of cases) {
  t.test(`502 naming ${code} for ${what}`, async (t) => {
    const res = await fetchText(port, '/secret', { host: `${name}.test` })
    t.equal(res.status, 502)
    const line = res.body.replace(/\n$/, '')
    t.notMatch(line, /\n/, 'one line')
    t.match(line, new RegExp(`^backend 127\\.0\\.0\\.1:${backends[name].port} rejected: .+ \\(${code}\\)$`), res.body)
    t.match(handshakes.find((e) => e.endpoint === `127.0.0.1:${backends[name].port}`), { result: code })
    t.equal(backends[name].bytesReceived(), 0, 'no application byte reached the refused backend')
  })
}
