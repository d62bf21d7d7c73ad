/**
 * One side of a `bench proxy` mode (spiffe-lb, the undici forwarder or a peer proxy) while it is
 * measured: what was counted so far, and the sample it adds up to.
 */
import { processTreeCpuMicros } from '../child-process.ts'
import { sumBackendCounts } from '../backend-stats.ts'
import { percentiles } from '../report-model.ts'
import type { BackendCounts, ProxySample } from '../report-model.ts'
import type { PeerName } from './peer-configs.ts'
import type { LoadSlice } from './proxy-load.ts'

/** One side of a mode while it is measured: where to send load and what was counted so far. */
export interface Side {
  label: 'spiffe-lb' | 'undici' | PeerName
  address: string
  /** Process whose tree's CPU is this side's; undefined = unknown. */
  pid: number | undefined
  /** False when the backend behind this side is not ours. */
  backendKnown: boolean
  slices: LoadSlice[]
  cpuMicros: number
  /** CPU µs per handled request of each slice, for the spread across repeats. */
  sliceCpu: number[]
  backend: BackendCounts[]
  rssKb: number
  maxProcessRssKb: number
}

/** Returns a side with nothing counted yet. */
export function newSide (label: Side['label'], address: string, pid: number | undefined, backendKnown: boolean): Side {
  return { label, address, pid, backendKnown, slices: [], cpuMicros: 0, sliceCpu: [], backend: [], rssKb: 0, maxProcessRssKb: 0 }
}

/** Returns what `side` counted as one sample: rates, latency percentiles, CPU per handled request, backend counts. */
export function sample (side: Side): ProxySample {
  const requests = side.slices.reduce((n, s) => n + s.requests, 0)
  const durationMs = side.slices.reduce((n, s) => n + s.durationMs, 0)
  const unmeasured: Array<'cpu' | 'backend'> = [...(side.pid === undefined ? ['cpu' as const] : []), ...(side.backendKnown ? [] : ['backend' as const])]
  const backend = sumBackendCounts(side.backend)
  // CPU is divided by the requests the proxy forwarded, as the backend counted them: when a slice
  // stops, the requests in flight were handled (and cost CPU) but autocannon counts no answer.
  const handled = side.backendKnown ? backend.requests : requests
  return {
    requests,
    non2xx: side.slices.reduce((n, s) => n + s.non2xx, 0),
    errors: side.slices.reduce((n, s) => n + s.errors, 0),
    durationMs,
    requestsPerSecond: durationMs === 0 ? 0 : requests / (durationMs / 1000),
    latencyMs: percentiles(side.slices.flatMap((s) => s.latencies)),
    cpuMicrosPerRequest: side.pid === undefined || handled === 0 ? 0 : side.cpuMicros / handled,
    ...(side.pid === undefined ? {} : { cpuMicrosPerRequestBySlice: side.sliceCpu }),
    backend,
    ...(unmeasured.length === 0 ? {} : { unmeasured }),
    ...(side.pid === undefined ? {} : { rssKb: side.rssKb, maxProcessRssKb: side.maxProcessRssKb })
  }
}

/** Returns the CPU µs the side's process tree used so far (0 when its process is unknown). */
export const cpuOf = (side: Side): number => side.pid === undefined ? 0 : processTreeCpuMicros(side.pid)
