import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import t from 'tap'
import { GCE_WORKLOAD_CERTIFICATES_PATH } from './gce-files.ts'
import { workloadCertificatesBase } from './metadata-client.ts'
import { createMetadataSource, rotationDelay } from './metadata-source.ts'
import { nextOutcome, runSourceSuite } from './source-suite.ts'
import { CredentialStore } from './store.ts'
import { IDENTITY, OWN_TD, fixtures, type Material } from './testing/credential-fixtures.ts'
import { TrackingClock } from './testing/tracking-clock.ts'

/**
 * A scripted metadata server. Bodies are written by hand (not JSON.stringify of a map) so a
 * trust domain can appear twice, as a broken server might send it.
 */
interface Fake {
  url: string
  material: Material | undefined
  status: number | undefined
  delayMs: number
  configStatus: string
  /** SPIFFE ID the credentials are keyed by (default the configured identity). */
  keyedBy: string
  requests: Array<{ path: string, flavor: string | undefined }>
  close: () => Promise<void>
}

async function fakeServer (): Promise<Fake> {
  const fake: Fake = { url: '', material: undefined, status: undefined, delayMs: 0, configStatus: '{}', keyedBy: IDENTITY.toString(), requests: [], close: async () => {} }
  const server: Server = createServer((req, res) => {
    fake.requests.push({ path: req.url ?? '', flavor: req.headers['metadata-flavor'] as string | undefined })
    const answer = (): void => {
      const endpoint = (req.url ?? '').replace(`${GCE_WORKLOAD_CERTIFICATES_PATH}/`, '')
      const m = fake.material
      if (fake.status !== undefined || m === undefined) { res.writeHead(fake.status ?? 412).end('no'); return }
      let body = fake.configStatus
      if (endpoint === 'workload-identities') {
        body = JSON.stringify({ workloadCredentials: { [fake.keyedBy]: { certificatePem: m.chainPem, privateKeyPem: m.keyPem } } })
      } else if (endpoint === 'trust-anchors') {
        body = `{"trustAnchors": {${m.bundles.map(([td, pem]) => `${JSON.stringify(td)}: ${JSON.stringify({ trustAnchorsPem: pem })}`).join(', ')}}}`
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(body)
    }
    if (fake.delayMs > 0) setTimeout(answer, fake.delayMs)
    else answer()
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  fake.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  fake.close = async () => { server.closeAllConnections(); await new Promise((resolve) => server.close(resolve)) }
  return fake
}

runSourceSuite('metadata', async (env) => {
  const fake = await fakeServer()
  fake.material = env.first
  const source = createMetadataSource({ url: fake.url, clock: env.clock, pollIntervalMs: 3_600_000, backoff: { initialMs: 50, maxMs: 500 } })
  return {
    source,
    publish: async (m) => { fake.material = m; await source.refresh() },
    close: fake.close
  }
})

async function setup (t: { teardown: (fn: () => Promise<void>) => void }, opts: { timeoutMs?: number, pollIntervalMs?: number } = {}) {
  const fx = await fixtures()
  const fake = await fakeServer()
  const clock = new TrackingClock()
  const store = new CredentialStore({ identity: IDENTITY, clock })
  const source = createMetadataSource({ url: `${fake.url}${GCE_WORKLOAD_CERTIFICATES_PATH}`, clock, backoff: { initialMs: 20, maxMs: 100 }, ...opts })
  t.teardown(async () => { await source.stop(); await fake.close() })
  return { fx, fake, store, source }
}

t.test('url: the metadata root or the endpoints base', async (t) => {
  const base = `http://127.0.0.1:8181${GCE_WORKLOAD_CERTIFICATES_PATH}`
  t.equal(workloadCertificatesBase('http://127.0.0.1:8181'), base)
  t.equal(workloadCertificatesBase('http://127.0.0.1:8181/'), base)
  t.equal(workloadCertificatesBase(`${base}/`), base)
  t.throws(() => workloadCertificatesBase('ftp://x'), { code: 'ERR_SPIFFE_CREDENTIALS_BAD_URL' })
})

t.test('sends Metadata-Flavor: Google and reads all three endpoints', async (t) => {
  const { fx, fake, store, source } = await setup(t)
  fake.material = fx.good[0]
  await source.start(store)
  t.ok(store.status().ready)
  t.same(fake.requests.map((r) => r.path.split('/').pop()), ['config-status', 'workload-identities', 'trust-anchors'])
  t.ok(fake.requests.every((r) => r.flavor === 'Google'))
  t.equal(store.nextRefreshAt !== undefined && store.nextRefreshAt > Date.now() + 200_000, true, 'next poll at the default 300 s')
})

t.test('HTTP 412 is "not configured yet": not ready, keeps polling, then ready', async (t) => {
  const { fx, fake, store, source } = await setup(t)
  await source.start(store)
  t.match(store.status(), { ready: false, reason: 'pending' })
  t.equal(store.lastError?.code, 'ERR_SPIFFE_CREDENTIALS_NOT_CONFIGURED')
  const ok = nextOutcome(store, 'accepted', (o) => o.result === 'accepted')
  fake.material = fx.good[0]
  await ok
  t.ok(store.status().ready, 'picked up by the back-off poll')
})

t.test('config-status errors are surfaced and keep the last good snapshot', async (t) => {
  const { fx, fake, store, source } = await setup(t)
  fake.material = fx.good[0]
  await source.start(store)
  fake.configStatus = JSON.stringify({ partnerMetadataConfigsErrors: { errors: { 'iam.googleapis.com': 'workload-identity is not a managed identity' } } })
  fake.material = fx.good[1]
  await source.refresh()
  t.equal(store.lastError?.code, 'ERR_SPIFFE_CREDENTIALS_CONFIG_STATUS')
  t.match(store.lastError?.message, /iam\.googleapis\.com.*not a managed identity/)
  t.equal(store.current()?.svid.chainPem(), fx.good[0].chainPem)
})

t.test('http 500 and slow responses back off; the snapshot stays', async (t) => {
  const { fx, fake, store, source } = await setup(t, { timeoutMs: 100 })
  fake.material = fx.good[0]
  await source.start(store)
  fake.status = 500
  await source.refresh()
  t.equal(store.lastError?.code, 'ERR_SPIFFE_CREDENTIALS_METADATA_HTTP')
  const retry = (store.nextRefreshAt ?? 0) - Date.now()
  t.ok(retry <= 100, 'retry on the back-off schedule, not the 300 s poll')
  fake.status = undefined
  fake.delayMs = 1000
  await source.refresh()
  t.equal(store.lastError?.code, 'ERR_SPIFFE_CREDENTIALS_METADATA_UNREACHABLE', 'a slow answer times out')
  t.match(store.lastError?.message, /timeout/i)
  t.ok(store.status().ready, 'still serving the good snapshot')
})

t.test('trust domains and identities are matched exactly, not by substring', async (t) => {
  const { fx, fake, store, source } = await setup(t)
  // Only a look-alike domain delivered: must not count as the own domain's bundle.
  fake.material = { ...fx.good[0], bundles: [[`x${OWN_TD}`, fx.root.rootPem]] }
  await source.start(store)
  t.equal(store.lastError?.code, 'ERR_SPIFFE_CREDENTIALS_NO_OWN_BUNDLE')
  fake.material = fx.good[0]
  fake.keyedBy = `${IDENTITY.toString()}-2`
  await source.refresh()
  t.equal(store.lastError?.code, 'ERR_SPIFFE_CREDENTIALS_IDENTITY_NOT_DELIVERED')
  t.equal(store.current(), undefined)
})

t.test('polls by the rotation time when that comes before pollInterval', async (t) => {
  // An hour-long SVID (fixtures) and a day-long poll interval: the next poll must come at the
  // SVID's half-life, not a day later when it has long expired.
  const { fx, fake, store, source } = await setup(t, { pollIntervalMs: 24 * 3_600_000 })
  fake.material = fx.good[0]
  await source.start(store)
  const svid = store.current()?.svid
  const next = store.nextRefreshAt
  if (svid === undefined || next === undefined) throw new Error('a snapshot and a planned refresh after start')
  t.ok(next < svid.notAfter, 'the next poll is before the svid expires')
  t.ok(Math.abs(next - (svid.notBefore + svid.notAfter) / 2) < 2_000, 'at its half-life')
})

t.test('rotationDelay: half-life first, then half of what is left, never below a second', (t) => {
  const svid = { notBefore: 0, notAfter: 20_000 }
  const cases: Array<[number, number]> = [[0, 10_000], [4_000, 6_000], [10_000, 5_000], [16_000, 2_000], [19_500, 1_000], [25_000, 1_000]]
  for (const [now, want] of cases) t.equal(rotationDelay(svid, now), want, `at ${now} ms`)
  t.end()
})
