import type { BundleSet } from '../../spiffe/bundle-set.ts'
import type { X509Svid } from '../../spiffe/x509-svid.ts'
import { runInterleaved } from './handshake-loop.ts'
import type { MatrixCell } from './handshake-matrix.ts'
import type { HandshakeBenchOptions } from './handshake-options.ts'
import { baselineSide, connectorSide } from './handshake-sides.ts'
import type { StatsSnapshot } from '../backend-stats.ts'
import type { HandshakeTarget } from './handshake-target.ts'
import { ratio } from '../report-model.ts'
import type { HandshakeCell, HandshakeCounts } from '../report-model.ts'

/** What every cell against one target shares. */
export interface CellContext {
  target: HandshakeTarget
  /** The client SVID both sides present, and the bundles the subject verifies the target with. */
  svid: X509Svid
  bundles: BundleSet
  options: Pick<HandshakeBenchOptions, 'concurrency' | 'durationMs' | 'warmupMs' | 'sliceMs' | 'signal'>
}

/**
 * Measures one cell: a fresh connector (subject, its own session cache) and a fresh shared
 * context (baseline), warmed up, then interleaved slice by slice. When the target counts its
 * connections, they are read before and after, so the report shows both ends' counts.
 */
export async function measureCell (cell: MatrixCell, ctx: CellContext): Promise<HandshakeCell> {
  const { target, options } = ctx
  const params = {
    host: target.host,
    port: target.port,
    tlsVersion: cell.tlsVersion,
    groups: cell.offeredGroups,
    resume: cell.mode === 'resumed',
    svid: ctx.svid,
    bundles: ctx.bundles
  }
  const before = await target.stats?.()
  const subject = connectorSide(params)
  let recorders
  try {
    recorders = await runInterleaved(subject, baselineSide(params), {
      concurrency: options.concurrency,
      warmupMs: options.warmupMs,
      durationMs: options.durationMs,
      sliceMs: options.sliceMs,
      signal: options.signal
    })
  } finally {
    subject.close()
  }
  const after: StatsSnapshot | undefined = before === undefined ? undefined : await target.stats?.()
  const s = recorders.subject.sample()
  const b = recorders.baseline.sample()
  const totals = [recorders.subject.total, recorders.baseline.total]
  const counts: HandshakeCounts = {
    handshakes: totals.reduce((n, t) => n + t.handshakes, 0),
    resumed: totals.reduce((n, t) => n + t.resumed, 0),
    errors: totals.reduce((n, t) => n + t.errors, 0)
  }
  if (before !== undefined && after !== undefined) {
    counts.target = {
      connections: after.connections - before.connections,
      resumed: after.resumed - before.resumed,
      rejected: after.rejected - before.rejected
    }
  }
  return {
    id: cell.id,
    keyAlgorithm: cell.keyAlgorithm,
    chainDepth: cell.chainDepth,
    tlsVersion: cell.tlsVersion,
    group: cell.group,
    mode: cell.mode,
    subject: s,
    baseline: b,
    ratio: {
      cpuPerHandshake: ratio(s.cpuMicrosPerHandshake, b.cpuMicrosPerHandshake),
      handshakesPerSecond: ratio(s.handshakesPerSecond, b.handshakesPerSecond)
    },
    ...(cell.offeredGroups.length > 1 ? { offeredGroups: cell.offeredGroups } : {}),
    counts
  }
}
