/**
 * `/debug/peers` of `serve --workers N`: every worker runs its own connectors, so each has
 * seen its own handshakes. The primary asks each worker and keeps, per endpoint, the verdict
 * seen last by any of them, naming that worker.
 */
import type { PeerRecord } from './peer-record.ts'

/** One worker's peer records. */
export interface WorkerPeers { worker: string, peers: readonly PeerRecord[] }

/**
 * Returns one record per endpoint: the newest `seenAt` over all workers (the first worker
 * wins a tie), with `worker` set to the worker that saw it, sorted by endpoint.
 */
export function mergeWorkerPeers (answers: readonly WorkerPeers[]): PeerRecord[] {
  const newest = new Map<string, PeerRecord>()
  for (const { worker, peers } of answers) {
    for (const p of peers) {
      const known = newest.get(p.endpoint)
      if (known === undefined || Date.parse(p.seenAt) > Date.parse(known.seenAt)) newest.set(p.endpoint, { ...p, worker })
    }
  }
  return [...newest.values()].sort((a, b) => a.endpoint.localeCompare(b.endpoint))
}
