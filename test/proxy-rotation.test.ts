// The proxy's own X.509-SVID rotates (same SPIFFE ID, new key, new serial) five times while
// eight client loops keep requesting through it: not one request may fail, every answer must
// come from a backend that saw the proxy's identity, and new backend handshakes must present
// the rotated certificates. Rotations are spaced by completed requests, never by sleeping.
import t from 'tap'
import type { TLSSocket } from 'node:tls'
import { CredentialStore } from '../src/credentials/store.ts'
import { issueSvidCertificate } from '../src/pki/index.ts'
import { BundleSet } from '../src/spiffe/bundle-set.ts'
import { SpiffeId } from '../src/spiffe/spiffe-id.ts'
import { X509Svid } from '../src/spiffe/x509-svid.ts'
import { createBackendConnector, type BackendConnector, type HandshakeEvent } from '../src/tls/backend-connector.ts'
import { startEchoBackend } from '../src/testbed/echo-backend.ts'
import { fetchText, startTestProxy, testService } from '../src/proxy/test-support.ts'
import { TestSnapshots, makeDomain, makeSvid } from './tls-fixtures.ts'

const PROXY_ID = 'spiffe://a.test/lb/frontend'
const LOOPS = 8
const ROTATIONS = 5
const FIRST_ROTATION_AFTER = 40 // completed requests before the first rotation
const BETWEEN_ROTATIONS = 50 // completed requests after each rotation before the next (and the end)
const CAP = 700 // hard bound on requests; the run needs about 40 + 5 * 50 = 290

const a = await makeDomain('a.test')

/** Serial numbers as upper-case hex without leading zeros, whoever printed them. */
const norm = (serial: string): string => serial.replace(/:/g, '').toUpperCase().replace(/^0+(?=.)/, '')
function localSerial (socket: TLSSocket): string {
  const cert = socket.getCertificate()
  return cert !== null && 'serialNumber' in cert ? String(cert.serialNumber) : '?'
}

async function newProxySvid (): Promise<X509Svid> {
  // A fresh key and a fresh random serial each time; backdated a minute like real issuers.
  const issued = await issueSvidCertificate(a.ca, { uri: PROXY_ID, lifetimeMs: 3_600_000, notBefore: Date.now() - 60_000 })
  return X509Svid.fromPem(issued.chainPem, issued.keyPem, 'proxy')
}

const variants = [
  { name: 'a new backend connection per request', connectionPool: { maxRequestsPerConnection: 1, keepAlive: false }, everyRotationHandshakes: true },
  { name: 'pooled keep-alive backend connections', connectionPool: { maxRequestsPerConnection: 0, keepAlive: true }, everyRotationHandshakes: false }
]

for (const variant of variants) {
  t.test(`proxy SVID rotates 5 times under load, zero failed requests (${variant.name})`, async (t) => {
    const store = new CredentialStore({ identity: SpiffeId.fromString(PROXY_ID) })
    const bundles = BundleSet.of([a.bundle])
    const offer = async (): Promise<string> => {
      const svid = await newProxySvid()
      const outcome = store.offer('test', { svid, bundles })
      t.equal(outcome.result, 'accepted', `rotation accepted: ${outcome.error?.message ?? ''}`)
      return norm(svid.leaf.serialNumber)
    }
    const serialsOffered = [await offer()]

    const accepted: Array<{ peer: string, resumed: boolean, rotation: number }> = []
    let rotation = 0
    const backend = await startEchoBackend({
      listen: '127.0.0.1:0',
      name: 'echo',
      snapshots: new TestSnapshots(await makeSvid(a, '/backend/echo'), [a.bundle]),
      onEvent: (e) => { if (e.type === 'accepted') accepted.push({ peer: e.peer, resumed: e.resumed, rotation }) }
    })
    t.teardown(() => backend.close(0))

    // The real connector, wrapped to note which certificate the proxy presented on each new
    // backend connection (the local certificate of the TLS socket handed to undici).
    const handshakes: Array<HandshakeEvent & { rotation: number }> = []
    const real = createBackendConnector({ snapshots: store, onHandshake: (e) => { handshakes.push({ ...e, rotation }) } })
    t.teardown(() => { real.close() })
    const presented: Array<{ serial: string, rotation: number }> = []
    const connect = Object.assign((opts: Parameters<BackendConnector>[0], cb: Parameters<BackendConnector>[1]): void => {
      real(opts, (...args) => {
        const socket = args[1] as TLSSocket | null
        if (socket !== null) presented.push({ serial: norm(localSerial(socket)), rotation })
        cb(...args)
      })
    }, {
      close: () => { real.close() },
      get cachedSessions () { return real.cachedSessions },
      onCredentialChange: real.onCredentialChange,
      svidNotAfter: real.svidNotAfter
    }) as BackendConnector

    const { port } = await startTestProxy(t, {
      connect,
      services: [testService('echo', [backend], { protocol: 'HTTPS', connectionPool: variant.connectionPool })],
      urlMap: { defaultService: 'echo' }
    })

    let started = 0
    let completed = 0
    let doneAt = Infinity // completed count at which the loops stop starting requests
    const failures: string[] = []
    const peers = new Map<string, number>()
    const waiters: Array<{ n: number, resolve: () => void }> = []
    const completions = async (n: number): Promise<void> => {
      if (completed >= n) return
      await new Promise<void>((resolve) => { waiters.push({ n, resolve }) })
    }

    const loop = async (i: number): Promise<void> => {
      while (completed < doneAt && started < CAP) {
        started++
        try {
          const res = await fetchText(port, `/loop/${i}/${started}`)
          if (res.status !== 200) failures.push(`${res.status} ${res.body}`)
          else {
            const peer = String((JSON.parse(res.body) as { peer: unknown }).peer)
            peers.set(peer, (peers.get(peer) ?? 0) + 1)
          }
        } catch (err) {
          failures.push(`client error: ${(err as Error).message}`)
        }
        completed++
        for (const w of waiters.filter((x) => completed >= x.n)) { waiters.splice(waiters.indexOf(w), 1); w.resolve() }
      }
    }

    const rotate = async (): Promise<void> => {
      await completions(FIRST_ROTATION_AFTER)
      for (let k = 1; k <= ROTATIONS; k++) {
        if (k > 1) await completions(completed + BETWEEN_ROTATIONS)
        const svid = await newProxySvid()
        const outcome = store.offer('test', { svid, bundles })
        t.equal(outcome.result, 'accepted', `rotation ${k} accepted`)
        rotation = k
        serialsOffered.push(norm(svid.leaf.serialNumber))
      }
      await completions(completed + BETWEEN_ROTATIONS)
      doneAt = completed
    }

    const loops = Array.from({ length: LOOPS }, async (_, i) => { await loop(i) })
    // If the loops hit the cap first, the rotator would wait forever: release it.
    const rotator = rotate()
    await Promise.all(loops)
    for (const w of waiters.splice(0)) w.resolve()
    await rotator

    t.ok(started < CAP, `the run ended by rotation count, not by the cap (${started} requests)`)
    t.equal(rotation, ROTATIONS, 'all rotations happened')
    t.equal(store.current()?.svidGeneration, ROTATIONS + 1, 'each rotation was a new SVID generation')
    t.equal(new Set(serialsOffered).size, ROTATIONS + 1, 'each rotated SVID has a new serial')
    t.same(failures, [], 'zero failed requests')
    t.same([...peers.keys()], [PROXY_ID], 'every answer saw the proxy identity as caller')
    t.equal([...peers.values()].reduce((x, y) => x + y, 0), completed, 'every request answered')
    t.ok(accepted.length >= 1 && accepted.every((e) => e.peer === PROXY_ID), 'the backend verified the proxy identity on every connection')
    t.same(handshakes.filter((e) => e.result !== 'ok'), [], 'no failed backend handshake')

    const presentedSerials = new Set(presented.map((p) => p.serial))
    for (const s of presentedSerials) t.ok(serialsOffered.includes(s), `presented serial ${s} is one the store offered`)
    if (variant.everyRotationHandshakes) {
      t.ok(presentedSerials.size > 1, `the backend was shown ${presentedSerials.size} distinct client certificates`)
      for (let k = 0; k <= ROTATIONS; k++) {
        t.ok(presented.some((p) => p.serial === serialsOffered[k]), `the SVID of generation ${k + 1} was presented`)
        t.ok(accepted.some((e) => e.rotation === k && !e.resumed), `the backend accepted a full handshake after rotation ${k}`)
      }
    } else {
      // Pooled connections keep the certificate they were made with until they close: the
      // proxy does not recycle its pool on rotation, so only the first SVID must appear.
      t.ok(presentedSerials.has(serialsOffered[0] ?? ''), 'the first SVID was presented')
    }
  })
}
