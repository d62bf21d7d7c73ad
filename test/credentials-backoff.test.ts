import t from 'tap'
import { Backoff } from '../src/internal/backoff.ts'

t.test('grows exponentially and is capped', async (t) => {
  const b = new Backoff({ initialMs: 100, maxMs: 1000, factor: 2, jitter: 0 })
  t.same([b.next(), b.next(), b.next(), b.next(), b.next(), b.next()], [100, 200, 400, 800, 1000, 1000])
  t.equal(b.attempts, 6)
  b.reset()
  t.equal(b.next(), 100, 'reset starts over')
})

t.test('jitter spreads the delay around the base, never above the cap', async (t) => {
  const low = new Backoff({ initialMs: 1000, maxMs: 10_000, jitter: 0.2, random: () => 0 })
  const high = new Backoff({ initialMs: 1000, maxMs: 10_000, jitter: 0.2, random: () => 0.999999 })
  t.equal(low.next(), 800)
  t.equal(high.next(), 1200)
  const capped = new Backoff({ initialMs: 10_000, maxMs: 10_000, jitter: 0.5, random: () => 0.999999 })
  t.equal(capped.next(), 10_000)
})
