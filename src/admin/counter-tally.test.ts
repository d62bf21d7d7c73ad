import t from 'tap'
import { Counter, Registry } from 'prom-client'
import { counterTally } from './counter-tally.ts'

t.test('a tally adds its counts to the Counter on every read, exactly and once', async (t) => {
  const registry = new Registry()
  const tally = counterTally((a, b, c) => counter.labels(a, b, c))
  const counter = new Counter({ name: 'x_total', help: 'x', labelNames: ['a', 'b', 'c'], registers: [registry], collect () { tally.flush() } })
  const value = async (a: string, b: string, c: string): Promise<number | undefined> =>
    (await counter.get()).values.find((v) => v.labels.a === a && v.labels.b === b && v.labels.c === c)?.value
  const events: Array<[string, string, string]> = [['s', '200', 'e1'], ['s', '200', 'e1'], ['s', '502', 'e1'], ['s', '200', 'e2'], ['t', '200', 'e1']]
  for (const [a, b, c] of events) tally.add(a, b, c)
  t.equal(await value('s', '200', 'e1'), 2)
  t.equal(await value('s', '502', 'e1'), 1)
  t.equal(await value('s', '200', 'e2'), 1)
  t.equal(await value('t', '200', 'e1'), 1)
  t.equal(await value('s', '200', 'e1'), 2, 'a second read adds nothing twice')
  tally.add('s', '200', 'e1')
  t.match(await registry.metrics(), /x_total\{a="s",b="200",c="e1"\} 3/, 'a scrape flushes too')
})
