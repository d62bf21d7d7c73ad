import t from 'tap'
import { RearmableTimer } from './rearmable-timer.ts'

const sleep = async (ms: number): Promise<void> => { await new Promise((resolve) => setTimeout(resolve, ms)) }

t.test('fires once per arm, after the latest arm, never while disarmed or stopped', async (t) => {
  let fired = 0
  const timer = new RearmableTimer(400, () => { fired++ })
  timer.arm()
  await sleep(700)
  t.equal(fired, 1, 'armed: fired once')
  await sleep(500)
  t.equal(fired, 1, 'not again without an arm')
  timer.arm()
  timer.disarm()
  await sleep(600)
  t.equal(fired, 1, 'disarmed before its time: nothing')
  timer.arm()
  await sleep(250)
  timer.arm() // the count starts again: due 400 ms from here, not from the first arm
  await sleep(250)
  t.equal(fired, 1, 'not yet: re-armed 250 ms ago, though armed 500 ms ago')
  await sleep(600)
  t.equal(fired, 2, 'fired after the latest arm')
  timer.arm()
  timer.stop()
  await sleep(600)
  t.equal(fired, 2, 'stopped: nothing')
})
