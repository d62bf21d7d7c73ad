import t from 'tap'
import { handshakeChecks } from './handshake-checks.ts'
import type { HandshakeCell, HandshakeSample } from '../report-model.ts'

const sample = (resumedFraction: number): HandshakeSample => ({
  handshakes: 10, errors: 0, durationMs: 100, handshakesPerSecond: 100, cpuMicrosPerHandshake: 1000,
  latencyMs: { p50: 1, p90: 1, p99: 1 }, resumedFraction, negotiated: undefined, errorSamples: []
})
const cell = (mode: 'full' | 'resumed', cpu: number, resumed = 1): HandshakeCell => ({
  id: `ECDSA_P256/leaf+root/TLSv1.3/X25519/${mode}`, keyAlgorithm: 'ECDSA_P256', chainDepth: 1, tlsVersion: 'TLSv1.3', group: 'X25519', mode,
  subject: sample(mode === 'full' ? 0 : resumed), baseline: sample(mode === 'full' ? 0 : 1), ratio: { cpuPerHandshake: cpu, handshakesPerSecond: 1 }
})

t.test('checks follow the values', async (t) => {
  const cases: Array<[HandshakeCell, Array<[string, number, boolean]>]> = [
    [cell('full', 1.05), [['connector full cpu ratio <= 1.10', 1.05, true]]],
    [cell('full', 1.2), [['connector full cpu ratio <= 1.10', 1.2, false]]],
    [cell('full', 0), [['connector full cpu ratio <= 1.10', 0, false]]],
    [cell('resumed', 1.1, 1), [['resumed fraction >= 0.99', 1, true], ['connector resumed cpu ratio <= 1.15', 1.1, true]]],
    [cell('resumed', 1.2, 0.5), [['resumed fraction >= 0.99', 0.5, false], ['connector resumed cpu ratio <= 1.15', 1.2, false]]]
  ]
  for (const [c, want] of cases) {
    const got = handshakeChecks([c])
    t.same(got.map((g) => [g.name, g.value, g.met]), want, `${c.mode} ${c.ratio.cpuPerHandshake}`)
    for (const g of got) {
      t.equal(g.cell, c.id)
      t.ok(g.rule.startsWith(`${c.id}: `), 'the rule names the cell')
    }
  }
})
