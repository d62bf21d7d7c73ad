import { mkdtemp, readFile, rm } from 'node:fs/promises'
import os from 'node:os'
import { join } from 'node:path'
import { quote } from '../../internal/errors.ts'
import { keyAlgorithmOf } from '../../pki/index.ts'
import { BundleSet } from '../../spiffe/bundle-set.ts'
import { TrustDomain } from '../../spiffe/trust-domain.ts'
import { X509Bundle } from '../../spiffe/x509-bundle.ts'
import { X509Svid } from '../../spiffe/x509-svid.ts'
import { createBenchPki } from '../bench-pki.ts'
import { measureCell } from './handshake-cell.ts'
import type { CellContext } from './handshake-cell.ts'
import { handshakeChecks } from './handshake-checks.ts'
import { chainName, handshakeMatrix } from './handshake-matrix.ts'
import type { MatrixCell } from './handshake-matrix.ts'
import type { HandshakeBenchOptions } from './handshake-options.ts'
import { addressTarget, startOpensslTarget, startSpiffeLbTarget } from './handshake-target.ts'
import { benchEnvironment } from '../environment.ts'
import type { BenchReport, HandshakeCell } from '../report-model.ts'
import { benchError } from '../errors.ts'
import { formatHostPort } from '../../internal/host-port.ts'

export type { HandshakeBenchOptions } from './handshake-options.ts'

/** Cells sharing one PKI and one target, and how to bring that target up. */
interface TargetGroup {
  cells: MatrixCell[]
  open (dir: string): Promise<Omit<CellContext, 'options'>>
}

const round = (v: number, d = 0): string => (Number.isFinite(v) ? v.toFixed(d) : 'n/a')

/**
 * Runs `bench handshake` (docs/architecture.md#process-model): for every cell of the
 * matrix, mTLS handshakes through the spiffe-lb backend connector and, interleaved in the same
 * process, through bare `tls.connect` with one shared context (the baseline), against
 * `spiffe-lb backend` or `openssl s_server` started as child processes per key algorithm and
 * chain depth, or against an address. Returns the report (kind `handshake`, cells and target
 * checks); writes no files. Progress lines go to `progress`. Children and the temporary
 * folder of keys are removed on every exit path; an aborted `options.signal` rejects with
 * `ERR_SPIFFE_BENCH_ABORTED` after cleaning up.
 */
export async function runHandshakeBench (options: HandshakeBenchOptions, progress: (line: string) => void = () => {}): Promise<BenchReport> {
  const environment = benchEnvironment()
  const dir = await mkdtemp(join(os.tmpdir(), 'spiffe-lb-bench-handshake-'))
  const cells: HandshakeCell[] = []
  let skipped: string[] = []
  try {
    const groups = await plan(options)
    skipped = groups.skipped
    const total = groups.list.reduce((n, g) => n + g.cells.length, 0)
    for (const group of groups.list) {
      checkAborted(options.signal)
      const first = group.cells[0]
      if (first === undefined) continue
      const started = performance.now()
      const ctx = await group.open(join(dir, `${first.keyAlgorithm}-${first.chainDepth}`))
      progress(`${ctx.target.label} on ${formatHostPort(ctx.target.host, ctx.target.port)} for ${first.keyAlgorithm} ${chainName(first.chainDepth)} (keys and start: ${round(performance.now() - started)} ms)`)
      try {
        for (const cell of group.cells) {
          checkAborted(options.signal)
          const measured = await measureCell(cell, { ...ctx, options })
          checkAborted(options.signal)
          cells.push(measured)
          progress(progressLine(cells.length, total, measured))
        }
      } finally {
        await ctx.target.stop()
      }
    }
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
  return {
    kind: 'handshake',
    version: 1,
    environment,
    options: {
      keyAlgorithms: options.keyAlgorithms,
      chainDepths: options.chainDepths,
      tlsVersions: options.tlsVersions,
      groups: options.groups,
      modes: options.modes,
      concurrency: options.concurrency,
      durationMs: options.durationMs,
      warmupMs: options.warmupMs,
      sliceMs: options.sliceMs,
      target: options.target.kind === 'address' ? formatHostPort(options.target.host, options.target.port) : options.target.kind,
      quick: options.quick,
      ...(skipped.length > 0 ? { skipped } : {})
    },
    handshake: cells,
    targets: handshakeChecks(cells)
  }
}

function checkAborted (signal: AbortSignal | undefined): void {
  if (signal?.aborted === true) throw benchError('ERR_SPIFFE_BENCH_ABORTED', 'the handshake benchmark was interrupted', { at: 'bench handshake' })
}

function progressLine (i: number, n: number, c: HandshakeCell): string {
  const s = c.subject
  const b = c.baseline
  return `[${i}/${n}] ${c.id}: spiffe-lb ${round(s.handshakesPerSecond)} hs/s ${round(s.cpuMicrosPerHandshake)} µs/hs, ` +
    `bare ${round(b.handshakesPerSecond)} hs/s ${round(b.cpuMicrosPerHandshake)} µs/hs, cpu ratio ${round(c.ratio.cpuPerHandshake, 2)}` +
    `, resumed ${round(s.resumedFraction * 100)}%/${round(b.resumedFraction * 100)}%, errors ${s.errors}/${b.errors}`
}

/** Groups the matrix cells by the target they need (one PKI and one child per key algorithm and depth). */
async function plan (options: HandshakeBenchOptions): Promise<{ list: TargetGroup[], skipped: string[] }> {
  const spec = options.target
  if (spec.kind === 'address') {
    // The address serves its own certificate: the matrix runs over versions, groups and modes
    // with the client credentials given, whose key algorithm and depth label the cells.
    const svid = X509Svid.fromPem(await readText(spec.cert), await readText(spec.key), spec.cert)
    const bundles = BundleSet.of(await Promise.all(spec.bundles.map(async (b) =>
      X509Bundle.fromPem(TrustDomain.fromString(b.trustDomain), await readText(b.file), b.file))))
    const matrix = handshakeMatrix({ ...options, keyAlgorithms: [keyAlgorithmOf(svid.privateKey)], chainDepths: [svid.chain.length > 1 ? 2 : 1] })
    return {
      list: [{ cells: matrix.cells, open: async () => ({ target: addressTarget(spec.host, spec.port), svid, bundles }) }],
      skipped: matrix.skipped.map((s) => `${s.id} (${s.why})`)
    }
  }
  const matrix = handshakeMatrix(options)
  const list: TargetGroup[] = []
  for (const cell of matrix.cells) {
    const last = list.at(-1)?.cells[0]
    if (last?.keyAlgorithm === cell.keyAlgorithm && last.chainDepth === cell.chainDepth) {
      list.at(-1)?.cells.push(cell)
      continue
    }
    list.push({
      cells: [cell],
      open: async (dir) => {
        const pki = await createBenchPki(dir, cell.keyAlgorithm, cell.chainDepth)
        const target = spec.kind === 'openssl' ? await startOpensslTarget(pki, dir) : await startSpiffeLbTarget(pki)
        return { target, svid: pki.client.svid, bundles: pki.bundles }
      }
    })
  }
  return { list, skipped: matrix.skipped.map((s) => `${s.id} (${s.why})`) }
}

async function readText (file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8')
  } catch (err) {
    throw benchError('ERR_SPIFFE_BENCH_FILE_UNREADABLE', `cannot read ${quote(file)}: ${(err as Error).message}`, { at: file, cause: err })
  }
}
