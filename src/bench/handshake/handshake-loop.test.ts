import t from 'tap'
import { setTimeout as sleep } from 'node:timers/promises'
import { SideRecorder, runInterleaved, runSlice } from './handshake-loop.ts'
import type { Completed, Side } from './handshake-loop.ts'

/** A side whose handshakes take `ms`, fail every `failEvery`-th time, and count opens and closes. */
function fakeSide (name: string, opts: { ms?: number, resumedAfter?: number, failEvery?: number } = {}): Side & { opened: number, closed: number, log: string[] } {
  const side = {
    opened: 0,
    closed: 0,
    log: [] as string[],
    handshake: async (): Promise<Completed> => {
      const n = ++side.opened
      side.log.push(name)
      await sleep(opts.ms ?? 2)
      if (opts.failEvery !== undefined && n % opts.failEvery === 0) throw Object.assign(new Error(`boom ${n % 4}`), { code: 'EFAKE' })
      return {
        resumed: opts.resumedAfter !== undefined && n > opts.resumedAfter,
        negotiated: () => ({ protocol: 'TLSv1.3', cipher: 'C', group: name }),
        close: async () => { await sleep(1); side.closed++ }
      }
    }
  }
  return side
}

t.test('a slice runs concurrency loops and drains closes before reading cpu', async (t) => {
  const side = fakeSide('a', { failEvery: 2 })
  const r = new SideRecorder()
  await runSlice(side, r, { concurrency: 4, durationMs: 40, measured: true })
  t.ok(side.opened >= 4)
  t.equal(r.handshakes + r.errors, side.opened, 'every attempt is a success or an error')
  t.equal(side.closed, r.handshakes, 'every success was closed before the slice ended')
  t.equal(r.latencies.length, r.handshakes)
  t.ok(r.durationMs >= 40)
  t.ok(r.cpuMicros > 0)
  t.ok(r.errorSamples.length >= 1 && r.errorSamples.length <= 2, 'distinct messages only')
  t.match(r.errorSamples[0], /^EFAKE: boom/)
  t.same(r.negotiated, { protocol: 'TLSv1.3', cipher: 'C', group: 'a' })
})

t.test('warm-up counts in totals only', async (t) => {
  const r = new SideRecorder()
  await runSlice(fakeSide('a'), r, { concurrency: 2, durationMs: 20, measured: false })
  t.equal(r.handshakes, 0)
  t.equal(r.durationMs, 0)
  t.equal(r.cpuMicros, 0)
  t.ok(r.total.handshakes > 0)
  t.same(r.sample().cpuMicrosPerHandshake, 0)
})

t.test('sides alternate after warming up', async (t) => {
  const a = fakeSide('s', { resumedAfter: 3 })
  const b = fakeSide('b')
  const seen: string[] = []
  const tap = (side: Side, name: string): Side => ({ handshake: async () => { if (seen.at(-1) !== name) seen.push(name); return await side.handshake() } })
  const out = await runInterleaved(tap(a, 's'), tap(b, 'b'), { concurrency: 1, warmupMs: 20, durationMs: 80, sliceMs: 20 })
  t.same(seen, ['s', 'b', 's', 'b', 's'], 'warm-up s, b; then s, b and b, s (ABBA: consecutive runs of one side merge)')
  const s = out.subject.sample()
  t.equal(s.handshakes, out.subject.handshakes)
  t.ok(s.resumedFraction > 0 && s.resumedFraction <= 1)
  t.equal(out.baseline.sample().resumedFraction, 0)
  t.equal(out.subject.total.handshakes, a.opened)
})

t.test('an aborted signal stops the loops', async (t) => {
  const ac = new AbortController()
  ac.abort()
  const side = fakeSide('a')
  const out = await runInterleaved(side, fakeSide('b'), { concurrency: 2, warmupMs: 100, durationMs: 1000, sliceMs: 100, signal: ac.signal })
  t.equal(side.opened, 0)
  t.equal(out.subject.handshakes, 0)
})
