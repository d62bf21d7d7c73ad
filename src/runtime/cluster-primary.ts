import type { LogFormat } from '../process/command-log.ts'
import type { Logger } from 'pino'
import { clusterMetricsView } from '../admin/cluster-metrics.ts'
import { mergeWorkerPeers } from '../admin/cluster-peers.ts'
import { mergeWorkerServices, type ExpectedService } from '../admin/cluster-status.ts'
import type { PeerRecord } from '../admin/peer-record.ts'
import type { ServiceHealth } from '../admin/status.ts'
import type { SpiffeLbConfig } from '../config/types.ts'
import { snapshotToMessage } from '../credentials/snapshot-message.ts'
import type { SnapshotMessage } from '../credentials/snapshot-message.ts'
import { systemClock, type Clock, type TimerHandle } from '../internal/clock.ts'
import { endpointKey } from '../proxy/endpoint.ts'
import type { FrontendOptions } from '../proxy/types.ts'
import type { WireFrontend } from './cluster-messages.ts'
import { WorkerSet } from './cluster-workers.ts'
import { reloadSequence } from './reload-sequence.ts'
import { frontendFromConfig } from './proxy-wiring.ts'
import { assertServeable, planRouting, type RoutingPlan } from './routing-plan.ts'
import { createRuntimeAdmin, openRuntimeCore, type RunningServer, type ServerReload } from './wiring.ts'
import { CLUSTER_METRICS_TIMEOUT_MS, CLUSTER_RELOAD_TIMEOUT_MS, CLUSTER_STATUS_INTERVAL_MS, CLUSTER_STATUS_TIMEOUT_MS, DRAIN_TIMEOUT_MS } from '../defaults.ts'
import { serveError } from './errors.ts'

/** Answers of workers that are not running: they are left out, not waited for. */
const NOT_RUNNING: readonly string[] = ['ERR_SPIFFE_SERVE_WORKER_DOWN', 'ERR_SPIFFE_SERVE_WORKER_EXITED']

/** Options of {@link startCluster}. */
export interface ClusterOptions {
  /** Number of worker processes, at least 2 (1 is {@link startServer}'s single process). */
  workers: number
  logger: Logger
  /** The pino level the workers log at. */
  logLevel: string
  /** How the workers write their records (the primary's own format: one output per stdout). */
  logFormat: LogFormat
  clock?: Clock
}

/** A running cluster primary. */
export interface ClusterServer extends RunningServer {
  /** Process ids of the running workers. */
  readonly workerPids: readonly number[]
}

/**
 * Starts `serve --workers N` as the node:cluster primary for a validated `config`: it opens
 * the credential sources once (one store per managed identity), forks N workers that share
 * the frontend listener, sends each the routing and every credential snapshot before it
 * starts its proxy and each newly published snapshot after, restarts a worker that dies, and
 * runs the admin listener with the workers' metrics aggregated and their endpoint health
 * merged. Resolves once every worker listens and the admin listener too.
 */
export async function startCluster (config: SpiffeLbConfig, options: ClusterOptions): Promise<ClusterServer> {
  const clock = options.clock ?? systemClock
  const log = options.logger
  assertServeable(config) // before reading the frontend's files, as a single process does
  if (config.frontend.serverTlsPolicy !== undefined) {
    throw serveError('ERR_SPIFFE_SERVE_INBOUND_WORKERS', 'frontend.serverTlsPolicy (the inbound listener) runs in a single process: start serve without --workers')
  }
  const frontend = wireFrontend(await frontendFromConfig(config))
  const { metrics, credentials, stopSources } = await openRuntimeCore(config, clock, log)
  const loaded = credentials.map((c) => c.identity.toString())
  let running = config
  let plan: RoutingPlan
  try {
    plan = planRouting(config, loaded)
  } catch (err) {
    await stopSources()
    throw err
  }

  const snapshots = (): SnapshotMessage[] => credentials.flatMap((c) => {
    const s = c.store.current()
    return s === undefined ? [] : [snapshotToMessage(c.identity.toString(), s)]
  })
  const workers = new WorkerSet({
    count: options.workers,
    log,
    clock,
    init: (worker) => ({ type: 'spiffe-lb:init', worker, logLevel: options.logLevel, logFormat: options.logFormat, frontend, plan, snapshots: snapshots() })
  })
  // Every published snapshot goes to every worker, in publication order (the IPC channel keeps it).
  const unsubscribe = credentials.map((c) => c.store.subscribe((s) => {
    workers.broadcast({ type: 'spiffe-lb:snapshot', snapshot: snapshotToMessage(c.identity.toString(), s) })
  }))

  // The admin providers are synchronous, so endpoint health and the last peer verdicts are asked
  // from the workers every CLUSTER_STATUS_INTERVAL_MS (and after start and each reload) and served
  // from the last answers.
  let shown = plan // the plan every worker applied: a reload in progress is not half-reported
  const expected = (): ExpectedService[] =>
    shown.services.map((s) => ({ name: s.name, policy: s.policy, endpoints: s.endpoints.map(endpointKey) }))
  let services: ServiceHealth[] = mergeWorkerServices(expected(), [])
  let peers: PeerRecord[] = []
  const refreshStatus = async (): Promise<void> => {
    const [answers, verdicts] = await Promise.all([
      workers.request({ kind: 'status' }, CLUSTER_STATUS_TIMEOUT_MS),
      workers.request({ kind: 'peers' }, CLUSTER_STATUS_TIMEOUT_MS)
    ])
    services = mergeWorkerServices(expected(), answers.map((a) => a.ok
      ? { worker: a.worker, services: a.services ?? [] }
      : { worker: a.worker, error: `${a.message} (${a.code})` }))
    // A worker that did not answer keeps no say: its verdicts are as old as its last answer anyway.
    peers = mergeWorkerPeers(verdicts.flatMap((a) => a.ok ? [{ worker: a.worker, peers: a.peers ?? [] }] : []))
  }
  let polling: TimerHandle | undefined
  let stopped = false
  const poll = (): void => {
    polling = clock.setTimeout(() => { void refreshStatus().finally(() => { if (!stopped) poll() }) }, CLUSTER_STATUS_INTERVAL_MS)
    polling.unref()
  }

  const admin = createRuntimeAdmin(config, {
    metrics: clusterMetricsView(metrics, async () => {
      const answers = await workers.request({ kind: 'metrics' }, CLUSTER_METRICS_TIMEOUT_MS)
      const failed = answers.find((a) => !a.ok && !NOT_RUNNING.includes(a.code))
      if (failed !== undefined && !failed.ok) throw serveError('ERR_SPIFFE_SERVE_WORKER_REQUEST', `worker ${failed.worker} did not report its metrics: ${failed.message} (${failed.code})`)
      return answers.flatMap((a) => a.ok && a.metrics !== undefined ? [a.metrics] : [])
    }),
    credentials,
    services: () => services,
    peers: () => peers,
    clock
  })
  const stopAll = async (deadlineMs: number): Promise<void> => {
    stopped = true
    if (polling !== undefined) clock.clearTimeout(polling)
    for (const u of unsubscribe) u()
    await workers.drain(deadlineMs)
    await admin.close()
    await stopSources()
  }

  let proxyAddress: ClusterServer['proxyAddress']
  let adminAddress: ClusterServer['adminAddress']
  try {
    proxyAddress = await workers.start()
    await refreshStatus()
    adminAddress = await admin.listen()
  } catch (err) {
    await stopAll(0)
    throw err
  }
  poll()

  return {
    proxyAddress,
    adminAddress,
    credentials,
    get config () { return running },
    get workerPids () { return workers.pids },
    async reload (): Promise<ServerReload> {
      let next: RoutingPlan | undefined
      const { reload, config } = await reloadSequence({ running, credentials, clock, log }, {
        route: async (checked) => {
          const planned = planRouting(checked, loaded)
          next = planned
          const previous = plan
          plan = planned // a worker (re)starting from now on is initialised with it
          // A worker that is down (or dies now) gets the plan in force when it comes back; any other refusal
          // (a timeout included) undoes the reload everywhere: the last good config stays.
          const refused = (await workers.request({ kind: 'routing', plan: planned }, CLUSTER_RELOAD_TIMEOUT_MS))
            .filter((a) => !a.ok && !NOT_RUNNING.includes(a.code))
          if (refused.length === 0) return undefined
          plan = previous
          await workers.request({ kind: 'routing', plan: previous }, CLUSTER_RELOAD_TIMEOUT_MS)
          return {
            ok: false,
            errors: refused.map((a) => ({ path: 'backendServices', code: a.ok ? '' : a.code, message: `worker ${a.worker}: ${a.ok ? '' : a.message}` }))
          }
        },
        // The snapshots went to the workers when the trust was published: applied before we answer.
        committed: async () => { await workers.request({ kind: 'sync' }, CLUSTER_RELOAD_TIMEOUT_MS) }
      })
      if (config === undefined || next === undefined) return reload
      running = config
      shown = next
      await refreshStatus()
      return reload
    },
    async close (deadlineMs = DRAIN_TIMEOUT_MS): Promise<void> {
      await stopAll(deadlineMs)
    }
  }
}

/** Returns the frontend options as plain data for the workers (PEM as text). */
function wireFrontend (f: FrontendOptions): WireFrontend {
  const text = (v: string | Buffer): string => typeof v === 'string' ? v : v.toString('utf8')
  return {
    host: f.host,
    port: f.port,
    ...(f.tls === undefined ? {} : { tls: { cert: text(f.tls.cert), key: text(f.tls.key) } }),
    ...(f.limits === undefined ? {} : { limits: f.limits }),
    ...(f.allowTrace === undefined ? {} : { allowTrace: f.allowTrace })
  }
}
