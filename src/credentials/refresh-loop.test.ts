import t from 'tap'
import { ManualClock } from '../internal/clock.ts'
import { RefreshLoop } from './refresh-loop.ts'

t.test('runs one at a time and folds triggers during a run into one follow-up', async (t) => {
  const clock = new ManualClock(0)
  let runs = 0
  let release: () => void = () => {}
  const loop = new RefreshLoop(clock, async () => {
    runs++
    await new Promise<void>((resolve) => { release = resolve })
  })
  const a = loop.trigger()
  const b = loop.trigger()
  const c = loop.trigger()
  t.equal(b, c, 'queued triggers share one follow-up run')
  t.equal(runs, 1)
  release()
  await a
  await new Promise((resolve) => setImmediate(resolve))
  t.equal(runs, 2)
  release()
  await b
  t.equal(runs, 2)
})

t.test('schedule uses the clock, replaces the pending timer, stop clears it', async (t) => {
  const clock = new ManualClock(0)
  let runs = 0
  const loop = new RefreshLoop(clock, async () => { runs++ })
  loop.schedule(100)
  loop.schedule(50)
  t.equal(clock.pending, 1)
  clock.advance(50)
  await new Promise((resolve) => setImmediate(resolve))
  t.equal(runs, 1)
  loop.schedule(10)
  await loop.stop()
  t.equal(clock.pending, 0)
  await loop.trigger()
  t.equal(runs, 1, 'nothing runs after stop')
})
