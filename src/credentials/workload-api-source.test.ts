import { X509Certificate } from 'node:crypto'
import { status } from '@grpc/grpc-js'
import t from 'tap'
import { nextOutcome, runSourceSuite } from './source-suite.ts'
import { CredentialStore } from './store.ts'
import { IDENTITY, OWN_TD, fixtures } from './testing/credential-fixtures.ts'
import { TrackingClock } from './testing/tracking-clock.ts'
import { renderMaterial, startFakeWorkloadApi, type FakeWorkloadApi } from './testing/workload-api-fake.ts'
import { createWorkloadApiSource, type WorkloadApiSource } from './workload-api-source.ts'

const ID = IDENTITY.toString()

runSourceSuite('workload-api', async (env) => {
  const fake = await startFakeWorkloadApi()
  fake.current = renderMaterial(env.first, ID)
  const source = createWorkloadApiSource({ endpoint: fake.address, clock: env.clock, backoff: { initialMs: 20, maxMs: 200 } })
  return {
    source,
    // The server pushes: a full-state message on the open stream, no nudge needed.
    publish: async (m) => { fake.push(renderMaterial(m, ID)) },
    close: fake.close
  }
})

async function setup (t: { teardown: (fn: () => Promise<void>) => void }, opts: { tcp?: boolean, env?: Record<string, string> } = {}): Promise<{ fake: FakeWorkloadApi, store: CredentialStore, source: WorkloadApiSource, fx: Awaited<ReturnType<typeof fixtures>>, clock: TrackingClock }> {
  const fx = await fixtures()
  const fake = await startFakeWorkloadApi(opts.tcp === true ? { tcp: true } : {})
  const clock = new TrackingClock()
  const store = new CredentialStore({ identity: IDENTITY, clock })
  const source = createWorkloadApiSource({
    clock,
    ...(opts.env === undefined ? { endpoint: fake.address } : { env: opts.env }),
    backoff: { initialMs: 20, maxMs: 200 }
  })
  t.teardown(async () => { await source.stop(); await fake.close() })
  return { fake, store, source, fx, clock }
}

t.test('both endpoint forms; the request carries workload.spiffe.io: true', async (t) => {
  for (const tcp of [false, true]) {
    const { fake, store, source, fx } = await setup(t, { tcp })
    fake.current = renderMaterial(fx.good[0], ID)
    await source.start(store)
    t.ok(store.status().ready, `${fake.address}: ready`)
    t.equal(source.connection, 'streaming')
    t.same(fake.requests, [{ header: true }])
  }
})

t.test('SPIFFE_ENDPOINT_SOCKET when no endpoint is configured', async (t) => {
  const fake = await startFakeWorkloadApi()
  t.teardown(fake.close)
  const fx = await fixtures()
  fake.current = renderMaterial(fx.good[0], ID)
  const source = createWorkloadApiSource({ env: { SPIFFE_ENDPOINT_SOCKET: fake.address } })
  t.teardown(async () => { await source.stop() })
  const store = new CredentialStore({ identity: IDENTITY })
  await source.start(store)
  t.ok(store.status().ready)
  t.throws(() => createWorkloadApiSource({ env: {} }), { code: 'ERR_SPIFFE_CREDENTIALS_WORKLOAD_API_NO_ENDPOINT' })
})

t.test('a federated bundle missing from the next full state is withdrawn', async (t) => {
  const { fake, store, source, fx } = await setup(t)
  fake.current = renderMaterial(fx.withPeer, ID)
  await source.start(store)
  t.ok(store.current()?.bundles.has('peer.test'))
  const before = store.current()?.bundleGeneration ?? 0
  const withdrawn = nextOutcome(store, 'withdrawal', (o) => o.result === 'accepted' && o.snapshot?.bundles.has('peer.test') === false)
  fake.push(renderMaterial({ ...fx.withPeer, bundles: [[OWN_TD, fx.root.rootPem]] }, ID))
  const s = (await withdrawn).snapshot
  t.equal(s?.bundleGeneration, before + 1, 'a new trust generation')
  t.equal(s?.svidGeneration, 1, 'the svid did not change')
})

t.test('reconnects after the server restarts, and takes the state it then sends', async (t) => {
  const { fake, store, source, fx } = await setup(t)
  fake.current = renderMaterial(fx.good[0], ID)
  await source.start(store)
  const down = nextOutcome(store, 'unavailable', (o) => o.error?.code === 'ERR_SPIFFE_CREDENTIALS_WORKLOAD_API_UNAVAILABLE')
  await fake.kill()
  await down
  t.ok(store.status().ready, 'the last good snapshot stays while the server is away')
  t.equal(source.connection, 'retrying')
  fake.current = renderMaterial(fx.good[1], ID)
  const back = nextOutcome(store, 'accepting good 2', (o) => o.result === 'accepted')
  await fake.restart()
  t.equal((await back).snapshot?.svidGeneration, 2)
  t.equal(source.connection, 'streaming')
  t.equal(store.lastError, undefined)
})

t.test('InvalidArgument is reported and not retried; refresh tries again', async (t) => {
  const { fake, store, source, fx, clock } = await setup(t)
  fake.refuse = { code: status.INVALID_ARGUMENT, details: 'security header missing from request' }
  await source.start(store)
  t.equal(store.lastError?.code, 'ERR_SPIFFE_CREDENTIALS_WORKLOAD_API_INVALID_ARGUMENT')
  t.match(store.lastError?.message, /security header missing/)
  t.equal(source.connection, 'failed')
  t.equal(clock.pending, 0, 'no retry is scheduled')
  t.equal(store.nextRefreshAt, undefined)
  t.equal(fake.requests.length, 1, 'one request')
  fake.refuse = undefined
  fake.current = renderMaterial(fx.good[0], ID)
  await source.refresh()
  t.ok(store.status().ready, 'an explicit refresh (SIGHUP) reconnects')
})

t.test('PermissionDenied (no identity yet) is retried until an identity arrives', async (t) => {
  const { fake, store, source, fx } = await setup(t)
  fake.refuse = { code: status.PERMISSION_DENIED, details: 'no identity issued' }
  await source.start(store)
  t.equal(store.lastError?.code, 'ERR_SPIFFE_CREDENTIALS_WORKLOAD_API_NO_IDENTITY')
  t.match(store.status(), { ready: false, reason: 'pending' })
  const retried = nextOutcome(store, 'second PermissionDenied', (o) => o.error?.code === 'ERR_SPIFFE_CREDENTIALS_WORKLOAD_API_NO_IDENTITY')
  await retried
  fake.current = renderMaterial(fx.good[0], ID)
  const ok = nextOutcome(store, 'accepted', (o) => o.result === 'accepted')
  fake.refuse = undefined
  await ok
  t.ok(fake.requests.length >= 3, `retried (${fake.requests.length} requests)`)
})

t.test('garbage DER is kept out; the last good snapshot stays and the stream stays open', async (t) => {
  const { fake, store, source, fx } = await setup(t)
  fake.current = renderMaterial(fx.good[0], ID)
  await source.start(store)
  const good = store.current()
  const cases: Array<[string, (m: ReturnType<typeof renderMaterial>) => void, RegExp]> = [
    ['chain', (m) => { m.svids![0]!.x509_svid = Buffer.from('garbage, not der') }, /DER_NOT_CERTIFICATE/],
    ['chain cut short', (m) => { const c = m.svids![0]!.x509_svid!; m.svids![0]!.x509_svid = c.subarray(0, c.length - 10) }, /DER_TRUNCATED/],
    ['key', (m) => { m.svids![0]!.x509_svid_key = Buffer.from([0x30, 0x03, 0x02, 0x01, 0x00]) }, /BAD_PRIVATE_KEY/],
    ['own bundle', (m) => { m.svids![0]!.bundle = Buffer.from([0x30, 0x00]) }, /DER_NOT_CERTIFICATE/],
    ['federated bundle', (m) => { m.federated_bundles = { 'spiffe://peer.test': Buffer.from([0x30, 0x81]) } }, /DER_/],
    ['bundle key', (m) => { m.federated_bundles = { 'spiffe://Peer.test/x': m.svids![0]!.bundle! } }, /BUNDLE_KEY/],
    ['same domain under both key forms', (m) => { const b = new X509Certificate(fx.peerRoot.rootPem).raw; m.federated_bundles = { 'spiffe://peer.test': b, 'peer.test': b } }, /BUNDLE_KEY/]
  ]
  for (const [what, mutate, code] of cases) {
    const msg = renderMaterial(fx.good[1], ID)
    mutate(msg)
    const refused = nextOutcome(store, `rejecting ${what}`, (o) => o.result === 'rejected')
    fake.push(msg)
    t.match((await refused).error?.code, code, what)
    t.equal(store.current(), good, `${what}: last good snapshot in force`)
  }
  t.equal(source.connection, 'streaming', 'a bad message does not end the stream')
  const fixed = nextOutcome(store, 'accepting good 2', (o) => o.result === 'accepted')
  fake.push(renderMaterial(fx.good[1], ID))
  await fixed
})

t.test('no svid for the identity names the ids offered', async (t) => {
  const { fake, store, source, fx } = await setup(t)
  const msg = renderMaterial(fx.good[0], ID)
  msg.svids![0]!.spiffe_id = `spiffe://${OWN_TD}/ns/lb/sa/other`
  fake.current = msg
  await source.start(store)
  t.equal(store.lastError?.code, 'ERR_SPIFFE_CREDENTIALS_IDENTITY_NOT_DELIVERED')
  t.match(store.lastError?.message, /offered: "spiffe:\/\/demo-pool[^"]*\/ns\/lb\/sa\/other"/)
})
