import { openCommandLog } from '../process/command-log.ts'
import { pino } from 'pino'
import type { ServeErrorCode } from './errors.ts'
import type { Logger } from 'pino'
import { workerMetrics, type WorkerMetrics } from '../admin/cluster-metrics.ts'
import { createMetrics } from '../admin/metrics.ts'
import { SnapshotReplica, snapshotFromMessage } from '../credentials/snapshot-message.ts'
import type { SnapshotMessage } from '../credentials/snapshot-message.ts'
import { systemClock } from '../internal/clock.ts'
import { SpiffeLbError } from '../internal/errors.ts'
import { createProxy, type ReverseProxy } from '../proxy/proxy.ts'
import { isClusterMessage } from './cluster-messages.ts'
import type { PrimaryMessage, ReplyBody, WorkerMessage, WorkerRequest } from './cluster-messages.ts'
import { createConnectorPool, logTrustWithdrawn, type ConnectorPool } from './connector-pool.ts'
import { PeerLog } from './peer-log.ts'
import { routingFromPlan } from './routing-plan.ts'
import type { RoutingPlan } from './routing-plan.ts'
import { proxyLogger } from './access-log.ts'

type Init = Extract<PrimaryMessage, { type: 'spiffe-lb:init' }>

/**
 * Runs one `serve --workers N` worker (a node:cluster worker): it loads no config and opens no
 * credential source. The primary sends the routing plan, the frontend and every credential
 * snapshot; the worker builds its own connectors (its own SecureContexts and session caches)
 * and its own proxy on the cluster-shared frontend listener, applies the snapshots and routing
 * the primary sends, answers status requests, and drains when told.
 */
export function runClusterWorker (): void {
  const clock = systemClock
  let log: Logger = pino({ base: { svc: 'spiffe-lb', worker: process.pid } })
  const replicas = new Map<string, SnapshotReplica>()
  const replica = (identity: string): SnapshotReplica => {
    let r = replicas.get(identity)
    if (r === undefined) replicas.set(identity, r = new SnapshotReplica())
    return r
  }
  let proxy: ReverseProxy | undefined
  let pool: ConnectorPool | undefined
  let metrics: WorkerMetrics | undefined
  let draining = false
  const peers = new PeerLog()
  let queue = Promise.resolve()

  const send = (message: WorkerMessage, then?: () => void): void => {
    if (process.connected) process.send?.(message, undefined, undefined, () => { then?.() })
    else then?.()
  }

  const applySnapshot = (message: SnapshotMessage): void => {
    try {
      const snapshot = snapshotFromMessage(message)
      if (replica(message.identity).publish(snapshot)) log.debug({ identity: message.identity, generation: snapshot.generation }, 'credential snapshot applied')
    } catch (err) {
      // A damaged snapshot must not replace a good one: keep presenting the current one.
      log.error({ err, identity: message.identity, generation: message.generation }, 'credential snapshot refused; the current one stays')
    }
  }

  const start = async (init: Init): Promise<void> => {
    // The primary's level and format on the shared stdout; JSON goes through the buffered
    // destination, flushed on exit (drain ends in exit).
    log = openCommandLog({ logLevel: init.logLevel, logFormat: init.logFormat }, { stdout: process.stdout, stderr: process.stderr }, { worker: init.worker }).log
    for (const s of init.snapshots) applySnapshot(s)
    const own = createMetrics({ clock })
    metrics = workerMetrics(own, init.worker)
    pool = createConnectorPool({
      snapshotsFor: replica,
      onHandshake: (e) => { own.observeHandshake(e); peers.record(e, clock.now()) },
      onTrustWithdrawn: (e) => { own.observeTrustWithdrawn(e); logTrustWithdrawn(log, e) },
      clock
    })
    // Every planned service brings its own connector (the primary refused a plan without).
    proxy = createProxy({
      frontend: init.frontend,
      ...routingFromPlan(init.plan, connectorsOf(pool)),
      logger: proxyLogger(log),
      metrics: metrics.proxyMetrics,
      clock
    })
    const address = await proxy.listen()
    send({ type: 'spiffe-lb:ready', address: { address: address.address, family: address.family, port: address.port } })
  }

  const answer = async (request: WorkerRequest): Promise<ReplyBody> => {
    if (proxy === undefined || pool === undefined || metrics === undefined) return { ok: false, code: 'ERR_SPIFFE_SERVE_WORKER_NOT_STARTED' satisfies ServeErrorCode, message: 'the worker has not started its proxy' }
    switch (request.kind) {
      case 'status':
        return { ok: true, services: proxy.status().services }
      case 'metrics':
        return { ok: true, metrics: await metrics.json() }
      case 'peers':
        return { ok: true, peers: peers.view() }
      case 'sync':
        return { ok: true }
      case 'routing': {
        // The proxy validates synchronously; the promise then only tracks the old pools
        // draining, which must not hold up the answer.
        const swapped = proxy.reload(routingFromPlan(request.plan, connectorsOf(pool)))
        await Promise.race([swapped, new Promise((resolve) => setImmediate(resolve))])
        swapped.catch((err: unknown) => { log.warn({ err }, 'closing the previous backend pools failed') })
        return { ok: true }
      }
    }
  }

  const drain = async (deadlineMs: number): Promise<void> => {
    draining = true
    await proxy?.close(deadlineMs)
    pool?.close()
    process.exit(0)
  }

  const handle = async (message: PrimaryMessage): Promise<void> => {
    switch (message.type) {
      case 'spiffe-lb:init':
        try {
          await start(message)
        } catch (err) {
          const code = err instanceof SpiffeLbError ? err.code : (err as NodeJS.ErrnoException).code ?? 'ERR_SPIFFE_SERVE_WORKER_START' satisfies ServeErrorCode
          send({ type: 'spiffe-lb:failed', code, message: err instanceof Error ? err.message : String(err) }, () => process.exit(1))
        }
        return
      case 'spiffe-lb:request': {
        let reply: ReplyBody
        try {
          reply = await answer(message.request)
        } catch (err) {
          reply = { ok: false, code: err instanceof SpiffeLbError ? err.code : 'ERR_SPIFFE_SERVE_WORKER_REQUEST' satisfies ServeErrorCode, message: err instanceof Error ? err.message : String(err) }
        }
        send({ type: 'spiffe-lb:reply', id: message.id, ...reply })
        return
      }
      case 'spiffe-lb:drain':
        await drain(message.deadlineMs)
        return
      case 'spiffe-lb:snapshot':
        applySnapshot(message.snapshot)
    }
  }

  process.on('message', (raw: unknown) => {
    if (!isClusterMessage(raw)) return
    const message = raw as PrimaryMessage
    // Snapshots apply at once, in arrival order: a connection the primary hands over after
    // publishing a rotation reaches this worker after the snapshot on the same channel.
    if (message.type === 'spiffe-lb:snapshot') { applySnapshot(message.snapshot); return }
    queue = queue.then(async () => { await handle(message) })
  })
  // Signals are the primary's to handle: it tells every worker when to drain.
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => {})
  process.on('disconnect', () => {
    // The primary is gone (it crashed or was killed): nobody can coordinate this worker any more.
    if (!draining) {
      log.warn('the primary disconnected; stopping')
      void drain(0)
    }
  })
  send({ type: 'spiffe-lb:hello' })
}

function connectorsOf (pool: ConnectorPool) {
  return (s: RoutingPlan['services'][number]) => pool.connect(s.name, s.identity, s.sessionResumption, s.keyExchangeGroups, s.allowedPeers)
}
