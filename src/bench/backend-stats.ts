/**
 * Reads the counters of a `spiffe-lb backend` (`GET /stats` over mTLS) so the benchmarks can
 * count, per measured window, the backend connections and resumptions each side caused.
 * `/stats` requests are not counted as requests by the backend, but their connections are: this
 * reader keeps ONE keep-alive connection and subtracts, exactly, every connection it opened
 * itself (the backend may close an idle one, and then the next read opens another).
 */
import { Client, buildConnector } from 'undici'
import { quote } from '../internal/errors.ts'
import type { BackendCounts } from './report-model.ts'
import { benchError } from './errors.ts'
import { BENCH_SETTLE_MAX_MS, BENCH_SETTLE_POLL_MS } from '../defaults.ts'

/** The backend's counters at one moment, minus what this reader caused. */
export interface StatsSnapshot {
  connections: number
  resumed: number
  requests: number
  /** Clients the backend refused. */
  rejected: number
  /** Of `requests`, those over HTTP/2 (0 from a backend that does not count them). */
  h2Requests: number
}

/** A keep-alive reader of one backend's `/stats`. */
export interface BackendStatsReader {
  /** Returns the counters now, with this reader's own connections already subtracted. */
  read: () => Promise<StatsSnapshot>
  /**
   * Reads until two reads `intervalMs` apart agree (work still in flight at the end of a slice
   * lands in that slice), at most `maxMs`; returns the last read.
   */
  settle: (intervalMs?: number, maxMs?: number) => Promise<StatsSnapshot>
  close: () => Promise<void>
}

/**
 * Opens a reader of `https://ADDRESS/stats` presenting `certPem`/`keyPem` (a client SVID the
 * backend trusts). Session resumption is off, so this reader never adds to `resumed`.
 */
export function openBackendStats (address: string, certPem: string, keyPem: string): BackendStatsReader {
  let own = 0
  const base = buildConnector({ cert: certPem, key: keyPem, rejectUnauthorized: false, maxCachedSessions: 0 })
  const client = new Client(`https://${address}`, {
    allowH2: false, // one request per read; the connection count must mean connections
    connect: (opts, cb) => { own++; base(opts, cb) },
    keepAliveTimeout: 600_000,
    keepAliveMaxTimeout: 600_000
  })
  const read = async (): Promise<StatsSnapshot> => {
    const res = await client.request({ path: '/stats', method: 'GET' })
    const text = await res.body.text()
    let doc: unknown
    try { doc = JSON.parse(text) } catch { doc = undefined }
    const d = doc as Partial<Record<keyof StatsSnapshot, unknown>> | undefined
    if (res.statusCode !== 200 || typeof d?.connections !== 'number' || typeof d.resumed !== 'number' ||
      typeof d.requests !== 'number' || typeof d.rejected !== 'number') {
      throw benchError('ERR_SPIFFE_BENCH_BACKEND_STATS', `backend ${address} answered /stats with ${res.statusCode} ${quote(text, 200)}`, { at: address })
    }
    // `own` already counts a connection opened for this very read, and so does the backend.
    return { connections: d.connections - own, resumed: d.resumed, requests: d.requests, rejected: d.rejected, h2Requests: typeof d.h2Requests === 'number' ? d.h2Requests : 0 }
  }
  return {
    read,
    async settle (intervalMs = BENCH_SETTLE_POLL_MS, maxMs = BENCH_SETTLE_MAX_MS) {
      const end = performance.now() + maxMs
      let last = await read()
      for (;;) {
        await new Promise((resolve) => setTimeout(resolve, intervalMs))
        const next = await read()
        const same = next.connections === last.connections && next.requests === last.requests &&
          next.resumed === last.resumed && next.rejected === last.rejected
        last = next
        if (same || performance.now() > end) return last
      }
    },
    close: async () => { await client.destroy() }
  }
}

/** Returns counts with their per-request and per-connection ratios. */
function withRatios (requests: number, connections: number, resumed: number, h2Requests: number): BackendCounts {
  return {
    requests,
    h2Requests,
    connections,
    resumed,
    newConnectionsPerRequest: requests === 0 ? 0 : connections / requests,
    resumedFraction: connections === 0 ? 0 : resumed / connections
  }
}

/** Returns the backend counts of the window between two snapshots. */
export function backendCounts (before: StatsSnapshot, after: StatsSnapshot): BackendCounts {
  return withRatios(after.requests - before.requests, after.connections - before.connections, after.resumed - before.resumed, after.h2Requests - before.h2Requests)
}

/** Returns the sum of several windows' counts, ratios recomputed from the sums. */
export function sumBackendCounts (parts: readonly BackendCounts[]): BackendCounts {
  const sum = (pick: (p: BackendCounts) => number): number => parts.reduce((n, p) => n + pick(p), 0)
  return withRatios(sum((p) => p.requests), sum((p) => p.connections), sum((p) => p.resumed), sum((p) => p.h2Requests ?? 0))
}
