import t from 'tap'
import { ManualClock } from './clock.ts'

t.test('fires timers in time order as the clock advances', async (t) => {
  const clock = new ManualClock(1000)
  const fired: string[] = []
  clock.setTimeout(() => fired.push('b'), 200)
  clock.setTimeout(() => fired.push('a'), 100)
  const c = clock.setTimeout(() => fired.push('c'), 150)
  clock.clearTimeout(c)
  clock.advance(150)
  t.same(fired, ['a'])
  t.equal(clock.now(), 1150)
  clock.advance(100)
  t.same(fired, ['a', 'b'])
  t.equal(clock.pending, 0)
})

t.test('a timer set from a firing timer fires in the same advance when due', async (t) => {
  const clock = new ManualClock(0)
  const at: number[] = []
  clock.setTimeout(() => { at.push(clock.now()); clock.setTimeout(() => at.push(clock.now()), 10) }, 10)
  clock.advance(25)
  t.same(at, [10, 20])
})
