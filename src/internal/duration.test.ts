import t from 'tap'
import { parseDurationMs } from './duration.ts'

t.test('parseDurationMs reads every unit, fractions and units in a row', async (t) => {
  const cases: Array<[string, number]> = [
    ['500ms', 500], ['0ms', 0], ['3s', 3000], ['1.5s', 1500], ['0s', 0], ['86400s', 86_400_000],
    ['0.000000001s', 0], ['2592000s', 2_592_000_000], ['1m', 60_000], ['2.5m', 150_000],
    ['24h', 86_400_000], ['1m30s', 90_000], ['1h30m', 5_400_000], ['1s500ms', 1500], ['0.25ms', 0]
  ]
  for (const [text, ms] of cases) t.equal(parseDurationMs(text), ms, text)
})

t.test('parseDurationMs refuses what is not a duration', async (t) => {
  for (const text of ['', '86400', '1d', '-5s', '1.s', '.5s', ' 5s', '5s ', '5 s', '1e3s', 's', '5S', '5sec', '1m30', '10us', '1234567890123s']) {
    t.equal(parseDurationMs(text), undefined, JSON.stringify(text))
  }
})
