import { setTimeout as sleep } from 'node:timers/promises'
import type { BundleSet } from '../spiffe/bundle-set.ts'
import type { X509Svid } from '../spiffe/x509-svid.ts'
import { runInterleaved } from './handshake-loop.ts'
import type { MatrixCell } from './handshake-matrix.ts'
import type { HandshakeBenchOptions } from './handshake-options.ts'
import { baselineSide, connectorSide } from './handshake-sides.ts'
import type { HandshakeTarget, TargetStats } from './handshake-target.ts'
import { ratio } from './report.ts'
import type { HandshakeCell, HandshakeCounts } from './report.ts'

/** What every cell against one target shares. */
export interface CellContext {
  target: HandshakeTarget
  /** The client SVID both sides present, and the bundles the subject verifies the target with. */
  svid: X509Svid
  bundles: BundleSet
  options: Pick<HandshakeBenchOptions, 'concurrency' | 'durationMs' | 'warmupMs' | 'sliceMs' | 'signal'>
}

/** Lets the target finish the last closes before its counters are read. */
const SETTLE_MS = 50

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
  let after: TargetStats | undefined
  if (before !== undefined && target.stats !== undefined) {
    await sleep(SETTLE_MS)
    after = await target.stats()
  }
  const s = recorders.subject.sample()
  const b = recorders.baseline.sample()
  const totals = [recorders.subject.total, recorders.baseline.total]
  const counts: HandshakeCounts = {
    handshakes: totals.reduce((n, t) => n + t.handshakes, 0),
    resumed: totals.reduce((n, t) => n + t.resumed, 0),
    errors: totals.reduce((n, t) => n + t.errors, 0)
  }
  if (before !== undefined && after !== undefined) {
    // `after` includes its own read: one verified full handshake more than the cell made.
    counts.target = {
      connections: after.connections - before.connections - 1,
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
