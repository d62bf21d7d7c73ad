/**
 * The targets sets for `bench handshake`, checked per cell against the ratios
 * and fractions the run measured. `met` always follows from `value`.
 */
import type { HandshakeCell, TargetCheck } from '../report-model.ts'

/** The check names (stable: tools match on them) with their limits. */
export const HANDSHAKE_TARGETS = {
  fullCpu: { name: 'connector full cpu ratio <= 1.10', limit: 1.10 },
  resumedFraction: { name: 'resumed fraction >= 0.99', limit: 0.99 },
  resumedCpu: { name: 'connector resumed cpu ratio <= 1.15', limit: 1.15 }
} as const

/**
 * Returns the checks of every cell: a `full` cell gets `connector full cpu ratio <= 1.10`, a
 * `resumed` cell `resumed fraction >= 0.99` (the connector's) and `connector resumed cpu ratio
 * <= 1.15`. The rule names the cell. A ratio of 0 means a side measured nothing: never met.
 */
export function handshakeChecks (cells: readonly HandshakeCell[]): TargetCheck[] {
  const out: TargetCheck[] = []
  for (const c of cells) {
    const cpu = c.ratio.cpuPerHandshake
    if (c.mode === 'full') {
      const t = HANDSHAKE_TARGETS.fullCpu
      out.push({ name: t.name, rule: `${c.id}: ratio <= ${t.limit.toFixed(2)}`, value: cpu, met: cpu > 0 && cpu <= t.limit, cell: c.id,
        measures: `${c.id}: the connector's CPU per full handshake ÷ bare tls.connect's`, unit: '×' })
    } else {
      const f = HANDSHAKE_TARGETS.resumedFraction
      const fraction = c.subject.resumedFraction
      out.push({ name: f.name, rule: `${c.id}: fraction >= ${f.limit.toFixed(2)}`, value: fraction, met: fraction >= f.limit, cell: c.id,
        measures: `${c.id}: share of the connector's handshakes that resumed a session` })
      const t = HANDSHAKE_TARGETS.resumedCpu
      out.push({ name: t.name, rule: `${c.id}: ratio <= ${t.limit.toFixed(2)}`, value: cpu, met: cpu > 0 && cpu <= t.limit, cell: c.id,
        measures: `${c.id}: the connector's CPU per resumed handshake ÷ bare tls.connect's`, unit: '×' })
    }
  }
  return out
}
