import type { LogFormat } from '../process/command-log.ts'
import type { PeerRecord } from '../admin/peer-record.ts'
import type { ServiceHealth } from '../admin/status.ts'
import type { SnapshotMessage } from '../credentials/snapshot-message.ts'
import type { FrontendLimits } from '../proxy/types.ts'
import type { RoutingPlan } from './routing-plan.ts'

// The IPC protocol of `serve --workers N` between the node:cluster primary and its workers.
// Every message type starts with `spiffe-lb:`, so prom-client's own cluster messages (metrics
// aggregation) share the channel without confusion. The channel is a pipe between processes
// of the same user; it carries the SVID private key (see SnapshotMessage).

/** The frontend listener as plain data (PEM text instead of buffers). */
export interface WireFrontend {
  host: string
  port: number
  tls?: { cert: string, key: string }
  limits?: Partial<FrontendLimits>
  allowTrace?: boolean
}

/** What the primary asks a worker; the worker answers with a {@link WorkerReply}. */
export type WorkerRequest =
  /** Swap to this routing (a config reload); answers once the new routing serves. */
  | { kind: 'routing', plan: RoutingPlan }
  /** Answers the proxy's services with each endpoint's health. */
  | { kind: 'status' }
  /** Answers the worker's last handshake verdict per backend endpoint (`/debug/peers`). */
  | { kind: 'peers' }
  /** Answers the worker's data-plane metrics as prom-client JSON, for aggregation. */
  | { kind: 'metrics' }
  /** Answers once every earlier message was handled: a barrier. */
  | { kind: 'sync' }

/** Primary → worker. */
export type PrimaryMessage =
  /** Everything a worker needs to start its proxy; the answer to `hello`. */
  | { type: 'spiffe-lb:init', worker: string, logLevel: string, logFormat: LogFormat, frontend: WireFrontend, plan: RoutingPlan, snapshots: SnapshotMessage[] }
  /** A credential store published a new snapshot. */
  | { type: 'spiffe-lb:snapshot', snapshot: SnapshotMessage }
  | { type: 'spiffe-lb:request', id: number, request: WorkerRequest }
  /** Stop accepting, finish in-flight requests (up to the deadline), then exit 0. */
  | { type: 'spiffe-lb:drain', deadlineMs: number }

/** What a worker answers: done (with the services for `status`), or the error. */
export type ReplyBody =
  | { ok: true, services?: ServiceHealth[], metrics?: object[], peers?: PeerRecord[] }
  | { ok: false, code: string, message: string }

/** A worker's answer to the request with the same `id`. */
export type WorkerReply = { type: 'spiffe-lb:reply', id: number } & ReplyBody

/** Worker → primary. */
export type WorkerMessage =
  /** The worker listens for messages: send `init`. */
  | { type: 'spiffe-lb:hello' }
  /** The proxy listens (cluster-shared listener) at this address. */
  | { type: 'spiffe-lb:ready', address: { address: string, family: string, port: number } }
  /** The worker could not start; it exits next. */
  | { type: 'spiffe-lb:failed', code: string, message: string }
  | WorkerReply

/** Returns true when `value` is a spiffe-lb cluster message (not prom-client's, not noise). */
export function isClusterMessage (value: unknown): value is { type: string } {
  return typeof value === 'object' && value !== null &&
    typeof (value as { type?: unknown }).type === 'string' && (value as { type: string }).type.startsWith('spiffe-lb:')
}
