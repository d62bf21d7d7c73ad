// Pooled backend connections retire when the credentials they were made under change, whatever
// delivered the change: the issuer, a file directory or a metadata server. Keep-alive traffic
// runs through each change; afterwards no request may be written on a connection made before
// it (counted at the socket), the backend must see new connections, and once the partner trust
// domain is gone every request must be refused. An expired SVID retires its connections too.
import { rename, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { TLSSocket } from 'node:tls'
import t, { type Test } from 'tap'
import { createMetadataServer } from '../src/control/metadata-server.ts'
import { createDirectorySource } from '../src/credentials/directory-source.ts'
import { createIssuerSource } from '../src/credentials/issuer-source.ts'
import { createMetadataSource } from '../src/credentials/metadata-source.ts'
import type { CredentialSource } from '../src/credentials/credential-source.ts'
import { CredentialStore } from '../src/credentials/store.ts'
import { ManualClock, type Clock } from '../src/internal/clock.ts'
import { createRootCa, issueSvidCertificate } from '../src/pki/index.ts'
import { fetchText, startTestProxy, testService } from '../src/proxy/test-support.ts'
import { BundleSet } from '../src/spiffe/bundle-set.ts'
import { SpiffeId } from '../src/spiffe/spiffe-id.ts'
import type { X509Bundle } from '../src/spiffe/x509-bundle.ts'
import { X509Svid } from '../src/spiffe/x509-svid.ts'
import { createBackendConnector, type BackendConnector } from '../src/tls/backend-connector.ts'
import { startEchoBackend } from '../src/testbed/echo-backend.ts'
import { TestSnapshots, makeDomain, makeSvid, tempDir, writeCredentials } from './tls-fixtures.ts'

const own = await makeDomain('own.test')
const partner = await makeDomain('partner.example')
const extraPartnerRoot = await createRootCa({ subject: 'CN=partner second root', keyAlgorithm: 'ECDSA_P256' })
const PROXY_ID = SpiffeId.fromString('spiffe://own.test/ns/lb/sa/frontend')
const LOOPS = 4

/** The partner bundle with a second anchor: a trust change that keeps the domain trusted. */
const partnerRotated = partner.bundle.withAuthorities([extraPartnerRoot.cert])

/** A credential source the test can point at new trust bundles. */
interface Harness {
  source: CredentialSource
  /** Makes `bundles` what the source delivers next and nudges it. */
  deliver: (bundles: readonly X509Bundle[]) => Promise<void>
  close: () => Promise<void>
}

const sources: Array<[string, (t: Test, clock: Clock) => Promise<Harness>]> = [
  ['issuer', async (_t, clock) => {
    let bundles: readonly X509Bundle[] = [own.bundle, partner.bundle]
    const source = createIssuerSource({
      ca: own.ca,
      attest: () => {},
      lifetimeMs: 3_600_000,
      rotationWindowPercentage: 50,
      keyAlgorithm: 'ECDSA_P256',
      trustBundles: () => BundleSet.of(bundles),
      clock
    })
    return { source, deliver: async (b) => { bundles = b; await source.refresh() }, close: async () => {} }
  }],
  ['directory', async (t, clock) => {
    const dir = await tempDir(t)
    const svid = await makeSvid(own, '/ns/lb/sa/frontend')
    await writeCredentials(dir, svid, [own.bundle, partner.bundle])
    const source = createDirectorySource({ dir, clock, watch: false, pollIntervalMs: 3_600_000 })
    const deliver = async (bundles: readonly X509Bundle[]): Promise<void> => {
      const domains = Object.fromEntries(bundles.map((x) => [x.trustDomain.name, x.toJwks(1)]))
      await writeFile(join(dir, '.trust_bundles.json.tmp'), JSON.stringify({ trust_domains: domains }))
      await rename(join(dir, '.trust_bundles.json.tmp'), join(dir, 'trust_bundles.json'))
      await source.refresh()
    }
    return { source, deliver, close: async () => {} }
  }],
  ['metadata', async (_t, clock) => {
    let anchors = new Map([[own.name, own.bundle.toPem()], [partner.name, partner.bundle.toPem()]])
    const server = await createMetadataServer({
      listen: { host: '127.0.0.1', port: 0 },
      identity: PROXY_ID.toString(),
      issue: async (p) => await issueSvidCertificate(own.ca, { uri: PROXY_ID.toString(), ...p, notBefore: Date.now() - 60_000 }),
      trustAnchors: () => anchors,
      rotation: { lifetimeMs: 3_600_000, rotationWindowPercentage: 50 }
    })
    while (server.serial < 1) await new Promise((resolve) => setTimeout(resolve, 10))
    const source = createMetadataSource({ url: server.url, clock, pollIntervalMs: 3_600_000 })
    const deliver = async (bundles: readonly X509Bundle[]): Promise<void> => {
      anchors = new Map(bundles.map((b) => [b.trustDomain.name, b.toPem()]))
      await source.refresh()
    }
    return { source, deliver, close: async () => { await server.close() } }
  }]
]

/**
 * Wraps the real connector: every socket it hands out remembers the bundle and SVID generation
 * it was made under, and a request written on it after either moved on is counted as stale.
 */
function countingConnector (real: BackendConnector, snapshots: { current: CredentialStore['current'] }): { connect: BackendConnector, stale: () => number } {
  let stale = 0
  const gen = (): string => `${snapshots.current()?.bundleGeneration ?? 0}/${snapshots.current()?.svidGeneration ?? 0}`
  const connect = Object.assign((opts: Parameters<BackendConnector>[0], cb: Parameters<BackendConnector>[1]): void => {
    real(opts, (...args) => {
      const socket = args[1] as TLSSocket | null
      if (socket !== null) {
        const born = gen()
        const write = socket.write.bind(socket) as (...a: unknown[]) => boolean
        socket.write = ((...a: unknown[]) => { if (gen() !== born) stale++; return write(...a) }) as typeof socket.write
      }
      cb(...args)
    })
  }, {
    close: () => { real.close() },
    get cachedSessions () { return real.cachedSessions },
    onCredentialChange: real.onCredentialChange,
    svidNotAfter: real.svidNotAfter
  }) as BackendConnector
  return { connect, stale: () => stale }
}

/** Runs `LOOPS` request loops through the proxy until `stop()`; each result notes the bundle generation at its start. */
function traffic (port: number, store: CredentialStore): { stop: () => Promise<Array<{ gen: number, status: number, body: string }>>, count: () => number } {
  const results: Array<{ gen: number, status: number, body: string }> = []
  let running = true
  const loops = Array.from({ length: LOOPS }, async () => {
    while (running) {
      const gen = store.current()?.bundleGeneration ?? 0
      const r = await fetchText(port, '/partner')
      results.push({ gen, status: r.status, body: r.body })
    }
  })
  return {
    stop: async () => { running = false; await Promise.all(loops); return results },
    count: () => results.length
  }
}

async function until (what: () => boolean, label: string): Promise<void> {
  const end = Date.now() + 30_000
  while (!what()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${label}`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

for (const [name, make] of sources) {
  t.test(`${name} source: a trust change retires pooled connections under keep-alive traffic`, async (t) => {
    const clock: Clock = { now: () => Date.now(), setTimeout: (fn, ms) => setTimeout(fn, ms), clearTimeout: (h) => { clearTimeout(h as ReturnType<typeof setTimeout>) } }
    const harness = await make(t, clock)
    const store = new CredentialStore({ identity: PROXY_ID, clock })
    t.teardown(async () => { await harness.source.stop(); await harness.close() })
    await harness.source.start(store)
    t.ok(store.current()?.bundles.has(partner.name), 'partner trusted at start')

    const backend = await startEchoBackend({
      listen: '127.0.0.1:0',
      name: 'partner',
      snapshots: new TestSnapshots(await makeSvid(partner, '/backend'), [partner.bundle, own.bundle])
    })
    t.teardown(() => backend.close(0))
    const real = createBackendConnector({ snapshots: store })
    t.teardown(() => { real.close() })
    const { connect, stale } = countingConnector(real, store)
    const { port, log } = await startTestProxy(t, {
      services: [testService('partner', [backend], { protocol: 'HTTPS', connect, credentialChanges: connect })],
      urlMap: { defaultService: 'partner' }
    })

    // 1. The partner bundle gains an anchor: still trusted, but its connections are renewed.
    let load = traffic(port, store)
    await until(() => load.count() >= 20, 'traffic before the change')
    const connectionsBefore = backend.stats().connections
    const gen1 = store.current()?.bundleGeneration ?? 0
    await harness.deliver([own.bundle, partnerRotated])
    await until(() => (store.current()?.bundleGeneration ?? 0) > gen1, 'the changed bundle to be published')
    const changedAt = load.count()
    await until(() => load.count() >= changedAt + 20, 'traffic after the change')
    let results = await load.stop()
    t.same(results.filter((r) => r.status !== 200).map((r) => `${r.status} ${r.body}`), [], 'a changed bundle fails no request')
    t.equal(stale(), 0, 'no request went over a connection made before the change')
    t.ok(backend.stats().connections > connectionsBefore, 'the backend saw new connections after the change')
    t.ok(log.entries.some((e) => e.msg === 'backend connections retired' && String(e.reason).includes('partner.example')), 'retirement logged with its reason')

    // 2. The partner domain disappears: every request started afterwards is refused.
    load = traffic(port, store)
    await until(() => load.count() >= 20, 'traffic before the removal')
    const gen2 = store.current()?.bundleGeneration ?? 0
    await harness.deliver([own.bundle])
    await until(() => store.current()?.bundles.has(partner.name) === false, 'the removal to be published')
    const removedAt = load.count()
    await until(() => load.count() >= removedAt + 20, 'traffic after the removal')
    results = await load.stop()
    const after = results.filter((r) => r.gen > gen2)
    t.ok(after.length >= 10, `requests started after the removal: ${after.length}`)
    // The first refusal names the rule and ejects the endpoint; later ones find none healthy.
    t.same(after.filter((r) => !(r.status === 502 && r.body.includes('ERR_SPIFFE_VERIFY_NO_BUNDLE')) && r.status !== 503).map((r) => `${r.status} ${r.body}`), [],
      'every request after the removal is refused')
    t.ok(results.some((r) => r.status === 502 && r.body.includes('partner.example') && r.body.includes('ERR_SPIFFE_VERIFY_NO_BUNDLE')), 'refused for want of a partner.example bundle')
    t.equal(stale(), 0, 'no request went over a connection made before the removal')
  })
}

t.test('an expired SVID retires the pooled connections presenting it', async (t) => {
  const clock = new ManualClock(Date.now())
  const store = new CredentialStore({ identity: PROXY_ID, clock })
  const issued = await issueSvidCertificate(own.ca, { uri: PROXY_ID.toString(), notBefore: clock.now() - 60_000, lifetimeMs: 3_600_000 })
  const svid = X509Svid.fromPem(issued.chainPem, issued.keyPem, 'test')
  t.equal(store.offer('test', { svid, bundles: BundleSet.of([own.bundle, partner.bundle]) }).result, 'accepted')
  const backend = await startEchoBackend({
    listen: '127.0.0.1:0',
    snapshots: new TestSnapshots(await makeSvid(partner, '/backend'), [partner.bundle, own.bundle])
  })
  t.teardown(() => backend.close(0))
  const real = createBackendConnector({ snapshots: store, clock })
  t.teardown(() => { real.close() })
  const { connect, stale } = countingConnector(real, store)
  const { port, log } = await startTestProxy(t, {
    services: [testService('partner', [backend], { protocol: 'HTTPS', connect, credentialChanges: connect })],
    urlMap: { defaultService: 'partner' },
    clock
  })
  for (let i = 0; i < 5; i++) t.equal((await fetchText(port, '/before')).status, 200)
  t.equal(backend.stats().connections, 1, 'one pooled connection served them all')

  const served = backend.stats().requests
  clock.advance(svid.notAfter - clock.now() + 1)
  t.ok(log.entries.some((e) => e.msg === 'backend connections retired' && String(e.reason).includes('expired')), 'retired at expiry')
  const r = await fetchText(port, '/after')
  t.equal(r.status, 502, r.body)
  t.match(r.body, /ERR_SPIFFE_TLS_NO_CREDENTIALS/)
  t.equal(backend.stats().requests, served, 'the backend received nothing after the expiry')
  t.equal(stale(), 0)
})
