import t from 'tap'
import { RearmableTimer } from './rearmable-timer.ts'

const sleep = async (ms: number): Promise<void> => { await new Promise((resolve) => setTimeout(resolve, ms)) }

type Step = [what: string, act: (timer: RearmableTimer) => void, waitMs: number, firedAfter: number]

// One timer of 400 ms through the steps in order; each wait is far from 400 ms either side.
const steps: Step[] = [
  ['armed: fired once', (x) => { x.arm() }, 700, 1],
  ['not again without an arm', () => {}, 500, 1],
  ['disarmed before its time: nothing', (x) => { x.arm(); x.disarm() }, 600, 1],
  ['armed again, 250 ms pass', (x) => { x.arm() }, 250, 1],
  ['re-armed: due 400 ms from here, so not yet, though first armed 500 ms ago', (x) => { x.arm() }, 250, 1],
  ['fired after the latest arm', () => {}, 600, 2],
  ['stopped: nothing', (x) => { x.arm(); x.stop() }, 600, 2]
]

t.test('fires once per arm, after the latest arm, never while disarmed or stopped', async (t) => {
  let fired = 0
  const timer = new RearmableTimer(400, () => { fired++ })
  for (const [what, act, waitMs, firedAfter] of steps) {
    act(timer)
    await sleep(waitMs)
    t.equal(fired, firedAfter, what)
  }
})
