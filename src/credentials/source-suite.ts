// Test support only: the ONE suite every credential source must pass (run by each source's test).
import { createPublicKey } from 'node:crypto'
import t from 'tap'
import type { SpiffeId } from '../spiffe/spiffe-id.ts'
import { verifyX509Svid } from '../spiffe/verify-x509-svid.ts'
import type { CredentialSnapshot } from './credential-snapshot.ts'
import type { CredentialSource } from './credential-source.ts'
import { CredentialStore, type AttemptOutcome } from './store.ts'
import { IDENTITY, fixtures, type Material } from './testing/credential-fixtures.ts'
import { TrackingClock } from './testing/tracking-clock.ts'

/** What a source's test hands the suite. */
export interface SuiteHarness {
  source: CredentialSource
  /** Makes `m` what the source sees next and, if the source does not notice by itself, nudges it. */
  publish: (m: Material) => Promise<void>
  /** Frees what the harness made (servers, directories). */
  close: () => Promise<void>
}

/** Given to the harness factory: `first` must be in place before the source starts. */
export interface SuiteEnv {
  identity: SpiffeId
  clock: TrackingClock
  first: Material
}

const WAIT_MS = 15_000

/** Returns the next attempt outcome matching `pred`; rejects after a generous timeout. */
export function nextOutcome (store: CredentialStore, what: string, pred: (o: AttemptOutcome) => boolean): Promise<AttemptOutcome> {
  return new Promise((resolve, reject) => {
    const seen: string[] = []
    const timer = setTimeout(() => { off(); reject(new Error(`no attempt ${what} within ${WAIT_MS} ms; saw: ${seen.join(' | ')}`)) }, WAIT_MS)
    const off = store.onAttempt((o) => {
      seen.push(`${o.result}${o.error === undefined ? '' : ` ${o.error.code}`}`)
      if (pred(o)) { clearTimeout(timer); off(); resolve(o) }
    })
  })
}

/** Returns a problem with `s` (key, identity, chain) or undefined when it is consistent. */
export function inconsistency (s: CredentialSnapshot, identity: SpiffeId): string | undefined {
  const spki = createPublicKey(s.svid.privateKey).export({ type: 'spki', format: 'der' })
  if (!spki.equals(s.svid.leaf.publicKey.export({ type: 'spki', format: 'der' }))) return 'key does not match leaf'
  if (!s.svid.id.equals(identity)) return `id ${s.svid.id.toString()}`
  try {
    verifyX509Svid(s.svid.chain, s.bundles, { role: 'client', now: s.loadedAt })
  } catch (err) {
    return `chain: ${(err as Error).message}`
  }
  return undefined
}

/** Runs the shared source suite as a tap subtest named `name`. */
export function runSourceSuite (name: string, makeHarness: (env: SuiteEnv) => Promise<SuiteHarness>): void {
  t.test(`${name}: shared credential source suite`, async (t) => {
    const fx = await fixtures()
    const clock = new TrackingClock()
    const watchersBefore = fsWatchers()
    const harness = await makeHarness({ identity: IDENTITY, clock, first: fx.good[0] })
    t.teardown(async () => { await harness.source.stop(); await harness.close() })
    const store = new CredentialStore({ identity: IDENTITY, clock, additionalTrustBundles: fx.additional })
    const published: CredentialSnapshot[] = []
    store.subscribe((s) => { published.push(s) })
    const accepted = (m: Material) => (o: AttemptOutcome): boolean =>
      o.result !== 'rejected' && o.snapshot?.svid.chainPem() === normalize(m.chainPem) &&
      o.snapshot.bundles.size === new Set([...m.bundles.map(([td]) => td), 'other.test']).size

    await t.test('first snapshot', async (t) => {
      await harness.source.start(store)
      const s = store.current()
      t.ok(s, 'a snapshot after start')
      if (s === undefined) return
      t.equal(s.svid.chainPem(), normalize(fx.good[0].chainPem))
      t.same([s.generation, s.svidGeneration, s.bundleGeneration], [1, 1, 1])
      t.equal(s.source, harness.source.name)
      t.ok(s.bundles.has('other.test'), 'additionalTrustBundles merged in')
      t.same(store.status(), { ready: true, generation: 1, expiresAt: s.svid.notAfter })
      t.ok(store.usable())
    })

    await t.test('rotation of the svid, then of the trust bundles', async (t) => {
      const rotated = nextOutcome(store, `accepting ${fx.good[1].label}`, accepted(fx.good[1]))
      await harness.publish(fx.good[1])
      const s1 = (await rotated).snapshot
      t.same([s1?.generation, s1?.svidGeneration, s1?.bundleGeneration], [2, 2, 1], 'svid changed, bundles did not')
      const trusted = nextOutcome(store, `accepting ${fx.withPeer.label}`, accepted(fx.withPeer))
      await harness.publish(fx.withPeer)
      const s2 = (await trusted).snapshot
      t.same([s2?.generation, s2?.svidGeneration, s2?.bundleGeneration], [3, 2, 2], 'bundles changed, svid did not')
      t.ok(s2?.bundles.has('peer.test'))
    })

    await t.test('bad updates are kept out', async (t) => {
      const good = store.current()
      const before = published.length
      for (const { material, code } of fx.bad) {
        const refused = nextOutcome(store, `rejecting ${material.label} with ${String(code)}`,
          (o) => o.result === 'rejected' && code.test(o.error?.code ?? ''))
        await harness.publish(material)
        const o = await refused
        t.match(o.error?.code, code, `${material.label}: ${o.error?.code ?? ''} ${o.error?.message ?? ''}`)
        t.equal(store.current(), good, `${material.label}: last good snapshot stays`)
        t.equal(store.lastError?.code, o.error?.code, `${material.label}: recorded as lastError`)
        t.ok(store.status().ready, `${material.label}: still ready on the good snapshot`)
      }
      t.equal(published.length, before, 'nothing was published')
      t.ok(store.counters().rejected >= fx.bad.length, 'rejections counted')
    })

    await t.test('recovery after the bad update is fixed', async (t) => {
      const fixed = nextOutcome(store, `accepting ${fx.good[2].label}`, accepted(fx.good[2]))
      await harness.publish(fx.good[2])
      const s = (await fixed).snapshot
      t.same([s?.generation, s?.svidGeneration, s?.bundleGeneration], [4, 3, 3], 'generations only grow')
      t.equal(store.lastError, undefined, 'error cleared')
      t.ok(store.status().ready)
    })

    await t.test('every published snapshot was consistent', async (t) => {
      t.equal(published.length, 4)
      for (const s of published) t.equal(inconsistency(s, IDENTITY), undefined, `generation ${s.generation}`)
      const gens = published.map((s) => s.generation)
      t.same(gens, [...gens].sort((a, b) => a - b), 'increasing')
    })

    await t.test('close leaves no timers or watchers', async (t) => {
      await harness.source.stop()
      t.equal(clock.pending, 0, 'no pending timers')
      t.equal(fsWatchers(), watchersBefore, 'no fs watchers')
      const attempts = Object.values(store.counters()).reduce((a, b) => a + b, 0)
      await harness.source.refresh()
      t.equal(Object.values(store.counters()).reduce((a, b) => a + b, 0), attempts, 'refresh after stop does nothing')
      await harness.source.stop()
      t.pass('stop is idempotent')
    })
  })
}

function fsWatchers (): number {
  return process.getActiveResourcesInfo().filter((r) => r === 'FSEventWrap').length
}

/** Re-encodes PEM the way X509Svid.chainPem() prints it (64-column, trailing newline). */
function normalize (pem: string): string {
  return pem.replace(/\r\n/g, '\n').trim() + '\n'
}
