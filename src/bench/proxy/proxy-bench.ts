/**
 * `spiffe-lb bench proxy` (docs/architecture.md#process-model): the proxy under
 * autocannon load in three modes — `fresh` (a full backend handshake per request), `resumed` (a
 * new backend connection per request, resumed session), `pooled` (keep-alive) — next to the
 * minimal undici forwarder, measured in the same run in alternating slices so noise hits both.
 */
import { quote } from '../../internal/errors.ts'
import { processTreeMemory } from '../child-process.ts'
import { benchEnvironment } from '../environment.ts'
import { runLoad } from './proxy-load.ts'
import type { LoadSlice } from './proxy-load.ts'
import { resolveProxyBenchOptions } from './proxy-options.ts'
import type { ProxyBenchOptions, ProxyMode, ProxyProtocol, ResolvedProxyBenchOptions } from './proxy-options.ts'
import { backendCounts } from '../backend-stats.ts'
import type { StatsSnapshot } from '../backend-stats.ts'
import { proxyTargets } from './proxy-targets.ts'
import { createProxyWorld } from './proxy-world.ts'
import type { Frontend, ProxyWorld } from './proxy-world.ts'
import { ratio } from '../report-model.ts'
import type { BenchReport, PeerRun, ProxyRun, ProxySample } from '../report-model.ts'
import type { PeerName } from './peer-configs.ts'
import { availablePeers } from './peer-proxies.ts'
import { profilePooledServe } from './proxy-profile.ts'
import { cpuOf, newSide, sample, type Side } from './proxy-side.ts'
import { benchError } from '../errors.ts'
import { BENCH_PROBE_TIMEOUT_MS } from '../../defaults.ts'

type Progress = (line: string) => void

const url = (address: string): string => `http://${address}/`

/** The frontends of one mode: the proxy (absent with `--target-proxy`), the forwarder and the peers found. */
interface ModePair { proxy: Frontend | undefined, forwarder: Frontend, peers: Array<[PeerName, Frontend]> }

const stopPair = async (pair: ModePair): Promise<void> => {
  await Promise.all([pair.proxy?.child.stop(3000), pair.forwarder.child.stop(3000), ...pair.peers.map(async ([, f]) => { await f.child.stop(3000) })])
}

/**
 * Starts every mode's proxy and forwarder for `workers` at once: startup is never measured, and
 * a waiting proxy has no traffic and no health checks, so it costs the measured ones nothing.
 * If any fails to start, the ones that did are stopped and the first error is thrown.
 */
async function startPairs (world: ProxyWorld, o: ResolvedProxyBenchOptions, workers: number, peers: ReadonlyMap<PeerName, string>, protocol: ProxyProtocol): Promise<Map<ProxyMode, ModePair>> {
  const started: Frontend[] = []
  const keep = async (p: Promise<Frontend>): Promise<Frontend> => { const f = await p; started.push(f); return f }
  const results = await Promise.allSettled(modesOf(o, protocol).map(async (mode): Promise<[ProxyMode, ModePair]> => {
    const [ps, fs, ...peerStarts] = await Promise.allSettled([
      o.targetProxy === undefined ? keep(world.startProxy(mode, workers, protocol)) : Promise.resolve(undefined),
      keep(world.startForwarder(mode, protocol)),
      ...[...peers].map(async ([name, file]): Promise<[PeerName, Frontend]> => [name, await keep(world.startPeer(name, file, mode))])
    ])
    if (ps.status === 'rejected') throw ps.reason
    if (fs.status === 'rejected') throw fs.reason
    const failedPeer = peerStarts.find((r) => r.status === 'rejected')
    if (failedPeer !== undefined) throw failedPeer.reason
    const started = peerStarts.flatMap((r) => r.status === 'fulfilled' ? [r.value as [PeerName, Frontend]] : [])
    return [mode, { proxy: ps.value as Frontend | undefined, forwarder: fs.value as Frontend, peers: started }]
  }))
  const failed = results.find((r) => r.status === 'rejected')
  if (failed !== undefined) {
    await Promise.all(started.map(async (f) => { await f.child.stop(3000) }))
    throw failed.reason
  }
  return new Map(results.flatMap((r) => r.status === 'fulfilled' ? [r.value] : []))
}

/** Returns the modes `protocol` runs: HTTP/2 only pooled (see PROXY_PROTOCOLS). */
const modesOf = (o: ResolvedProxyBenchOptions, protocol: ProxyProtocol): ProxyMode[] => protocol === 'h2' ? o.modes.filter((m) => m === 'pooled') : o.modes

/** Measures one mode: warm-up on both sides, then alternating slices (ABBA order), each followed by a settled /stats read. */
async function measureMode (world: ProxyWorld, o: ResolvedProxyBenchOptions, mode: ProxyMode, protocol: ProxyProtocol, workers: number, pair: ModePair, progress: Progress): Promise<ProxyRun> {
  const tag = `${mode}${protocol === 'h2' ? ' h2' : ''}, ${workers} worker${workers === 1 ? '' : 's'}`
  try {
    const p = pair.proxy
    const f = pair.forwarder
    const subject = p === undefined
      ? newSide('spiffe-lb', o.targetProxy ?? '', o.proxyPid, false)
      : newSide('spiffe-lb', p.address, p.child.pid, true)
    const baseline = newSide('undici', f.address, f.child.pid, true)
    const peerSides = pair.peers.map(([name, fr]) => ({ side: newSide(name, fr.address, fr.child.pid, true), child: fr.child }))
    const sides = [subject, baseline, ...peerSides.map((x) => x.side)]
    const stderrOf = (side: Side): string | undefined =>
      side === subject ? p?.child.stderr() : side === baseline ? f.child.stderr() : peerSides.find((x) => x.side === side)?.child.stderr()
    const load = async (side: Side, durationMs: number, what: string): Promise<LoadSlice> =>
      await runLoad({ url: url(side.address), connections: o.connections, durationMs, progressBar: o.progressBar, title: `${tag} ${side.label} ${what}` })
    for (const side of sides) {
      // First prove the side answers at all (a side with no 2xx would make every figure
      // meaningless), with a deadline of its own: on a loaded machine the first request (first
      // backend handshake, cold code) can outlast a short timed warm-up.
      const answer = await probe(side.address)
      if (answer !== undefined) {
        throw benchError('ERR_SPIFFE_BENCH_NO_RESPONSES',
          `${side.label} (${tag}) at ${side.address} did not answer 2xx before measuring (${answer}): ${quote((stderrOf(side) ?? '').trim(), 400)}`, { at: side.label })
      }
      await load(side, Math.max(o.warmupMs, 200), 'warm-up')
    }
    progress(`${tag}: warmed up, measuring ${o.slices} slices of ${Math.round(o.durationMs / o.slices)} ms per side (${sides.map((x) => x.label).join(', ')})`)
    let before: StatsSnapshot = await world.stats.settle()
    const sliceMs = o.durationMs / o.slices
    for (let i = 0; i < o.slices; i++) {
      // ABBA…: even slices run the sides in order, odd ones in reverse, so no side always
      // follows the same neighbour.
      for (const side of i % 2 === 0 ? sides : [...sides].reverse()) {
        const cpu0 = cpuOf(side)
        const slice = await load(side, sliceMs, `slice ${i + 1}/${o.slices}`)
        // Memory right after the load, before the settle lets idle connections close.
        if (side.pid !== undefined) {
          const mem = processTreeMemory(side.pid)
          side.rssKb = Math.max(side.rssKb, mem.rssKb)
          side.maxProcessRssKb = Math.max(side.maxProcessRssKb, mem.maxProcessRssKb)
        }
        const after = await world.stats.settle()
        const cpu = cpuOf(side) - cpu0
        side.cpuMicros += cpu
        side.slices.push(slice)
        const counts = side.backendKnown ? backendCounts(before, after) : undefined
        if (counts !== undefined) side.backend.push(counts)
        const handled = counts?.requests ?? slice.requests
        side.sliceCpu.push(handled === 0 ? 0 : cpu / handled)
        before = after
      }
    }
    const run: ProxyRun = { mode, protocol, workers, subject: sample(subject), baseline: sample(baseline), ratio: { cpuPerRequest: 0, requestsPerSecond: 0 } }
    run.ratio = {
      cpuPerRequest: ratio(run.subject.cpuMicrosPerRequest, run.baseline.cpuMicrosPerRequest),
      requestsPerSecond: ratio(run.subject.requestsPerSecond, run.baseline.requestsPerSecond)
    }
    if (peerSides.length > 0) {
      run.peers = peerSides.map(({ side }): PeerRun => {
        const s = sample(side)
        return { name: side.label as PeerName, sample: s, cpuRatio: ratio(run.subject.cpuMicrosPerRequest, s.cpuMicrosPerRequest) }
      })
    }
    progress(`${tag}: ${summary('spiffe-lb', run.subject)} | ${summary('undici', run.baseline)} | cpu ratio ${run.ratio.cpuPerRequest.toFixed(2)}`)
    for (const peer of run.peers ?? []) progress(`${tag}: ${summary(peer.name, peer.sample)} | spiffe-lb/${peer.name} cpu ratio ${peer.cpuRatio.toFixed(2)}`)
    return run
  } finally {
    await stopPair(pair)
  }
}

function summary (label: string, s: ProxySample): string {
  return `${label} ${Math.round(s.requestsPerSecond)} req/s, ${Math.round(s.cpuMicrosPerRequest)} µs/req, ` +
    `${s.backend.newConnectionsPerRequest.toFixed(2)} conns/req, ${(s.backend.resumedFraction * 100).toFixed(1)} % resumed, ` +
    `${s.backend.requests === 0 ? 0 : Math.round((s.backend.h2Requests ?? 0) / s.backend.requests * 100)} % over h2`
}

/**
 * Runs the proxy benchmark: starts a backend (and, unless `targetProxy` is given, a `spiffe-lb
 * serve` per mode and worker count) plus the undici forwarder baseline, measures every mode, and
 * returns the report (kind `proxy`) with the target checks. Writes no files. Every child process
 * and the temporary directory are removed on return, on error, and on SIGINT/SIGTERM (the
 * signal is raised again after cleanup). Throws `ERR_SPIFFE_BENCH_BAD_OPTION` for bad options.
 */
export async function runProxyBench (options: ProxyBenchOptions, progress: Progress = () => {}): Promise<BenchReport> {
  const o = resolveProxyBenchOptions(options)
  const environment = benchEnvironment()
  const peers = availablePeers(o.peers)
  progress(`creating ${o.keyAlgorithm} credentials and starting the backend`)
  const creating = createProxyWorld(o.keyAlgorithm)
  // On a signal: clean up (waiting for a world still being created), then die of the signal.
  const onSignal = (signal: NodeJS.Signals): void => {
    removeSignals()
    creating.then(async (w) => { await w.close() }).catch(() => {}).finally(() => { process.kill(process.pid, signal) })
  }
  const removeSignals = (): void => { process.off('SIGINT', onSignal); process.off('SIGTERM', onSignal) }
  process.once('SIGINT', onSignal)
  process.once('SIGTERM', onSignal)
  const runs: ProxyRun[] = []
  let world: ProxyWorld | undefined
  try {
    world = await creating
    for (const note of peers.notes) progress(note)
    for (const protocol of o.protocols) {
      for (const workers of o.workers) {
        // Peers run with one worker (the comparison is per worker) and HTTP/1.1 (their configs' upstream protocol).
        const runPeers = workers === Math.min(...o.workers) && protocol === 'h1' ? peers.found : new Map<PeerName, string>()
        progress(`starting ${o.targetProxy === undefined ? 'spiffe-lb serve, ' : ''}the undici forwarder${[...runPeers.keys()].map((n) => `, ${n}`).join('')} for ${modesOf(o, protocol).join(', ')} over ${protocol} (${workers} worker${workers === 1 ? '' : 's'})`)
        const pairs = await startPairs(world, o, workers, runPeers, protocol)
        try {
          for (const [mode, pair] of pairs) {
            const run = await measureMode(world, o, mode, protocol, workers, pair, progress)
            // The breakdown the report gives of a pooled request: from a serve of its own,
            // profiled once the measured ones have stopped.
            if (mode === 'pooled' && protocol === 'h1' && workers === Math.min(...o.workers) && o.targetProxy === undefined) {
              run.profile = await profilePooledServe(world, o, progress)
            }
            runs.push(run)
          }
        } finally {
          await Promise.all([...pairs.values()].map(stopPair))
        }
      }
    }
  } finally {
    removeSignals()
    await world?.close()
  }
  return {
    kind: 'proxy',
    version: 1,
    environment,
    options: {
      modes: o.modes,
      protocols: o.protocols,
      connections: o.connections,
      durationMs: o.durationMs,
      warmupMs: o.warmupMs,
      slices: o.slices,
      workers: o.workers,
      keyAlgorithm: o.keyAlgorithm,
      peers: o.peers,
      ...(o.targetProxy === undefined ? {} : { targetProxy: o.targetProxy }),
      ...(o.proxyPid === undefined ? {} : { proxyPid: o.proxyPid }),
      quick: o.quick
    },
    proxy: runs,
    ...(peers.notes.length === 0 ? {} : { notes: peers.notes }),
    targets: proxyTargets(runs.filter((r) => r.protocol !== 'h2'), o.workers)
  }
}

/** Sends one GET to `address`; returns undefined for a 2xx, else what went wrong. */
async function probe (address: string): Promise<string | undefined> {
  try {
    const res = await fetch(url(address), { signal: AbortSignal.timeout(BENCH_PROBE_TIMEOUT_MS) })
    await res.arrayBuffer()
    return res.ok ? undefined : `status ${res.status}`
  } catch (err) {
    return err instanceof Error ? err.message : String(err)
  }
}
