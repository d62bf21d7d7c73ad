/**
 * Metrics of `serve --workers N` (docs/metrics.md): each node:cluster worker records the data-plane
 * metrics of its own proxy and connectors; the primary owns the credential metrics. The admin
 * port (on the primary) serves one exposition, merged by prom-client's cluster aggregation
 * (`AggregatorRegistry.aggregate`: counters and histograms summed over the workers).
 * Metric names are unchanged; `spiffe_lb_worker_requests_total` is added.
 */
import { AggregatorRegistry, Counter, Registry, type MetricObjectWithValues, type MetricValue } from 'prom-client'
import type { ProxyMetrics } from '../proxy/types.ts'
import { METRICS, instrumentOptions, metricsMerged } from './metric-definitions.ts'
import { METRIC_NAMES, type SpiffeLbMetrics } from './metrics.ts'

/** The metric only a cluster exposes. */
export const CLUSTER_METRIC_NAMES = {
  workerRequests: METRICS.workerRequests.name
} as const

/** Recorded by the primary, which owns the credential sources; workers never expose them (`merge: 'primary'`). */
const PRIMARY_METRICS: readonly string[] = metricsMerged('primary')
/** Merged with `min` over the workers rather than summed (`merge: 'min'`). */
const MIN_METRICS: readonly string[] = metricsMerged('min')

/**
 * A worker's registry as the primary aggregates it. A `merge: 'min'` metric such as
 * `spiffe_lb_endpoint_healthy` is a 0/1 gauge per endpoint: summed over workers it would read N,
 * so it is aggregated with `min` instead: 1 only when every worker routes to the endpoint, 0
 * when any has ejected it.
 */
class WorkerRegistry extends Registry {
  override async getMetricsAsJSON (): Promise<Array<MetricObjectWithValues<MetricValue<string>>>> {
    const metrics = await super.getMetricsAsJSON()
    return metrics.map((m) => MIN_METRICS.includes(m.name) ? { ...m, aggregator: 'min' as const } : m)
  }
}

/** A worker's side of the cluster metrics: what its proxy records into, and what it reports. */
export interface WorkerMetrics {
  /** `metrics` plus `spiffe_lb_worker_requests_total{worker}`: give it to the worker's proxy. */
  readonly proxyMetrics: ProxyMetrics
  /** Returns this worker's data-plane metrics as `Registry.getMetricsAsJSON()` (plain data, for IPC). */
  json (): Promise<object[]>
}

/**
 * Returns the worker side of the cluster metrics: its data-plane metrics (not the credential
 * ones, which the primary owns) plus `spiffe_lb_worker_requests_total{worker}`, the requests
 * this worker served. Aggregation sums every other series over the workers, so that one keeps
 * a `worker` label (the worker's slot 1..N, kept across restarts) to show how the shared
 * listener spreads the load.
 */
export function workerMetrics (metrics: SpiffeLbMetrics, worker: string): WorkerMetrics {
  const registry = new WorkerRegistry()
  for (const name of Object.values(METRIC_NAMES)) {
    const metric = metrics.registry.getSingleMetric(name)
    if (metric !== undefined && !PRIMARY_METRICS.includes(name)) registry.registerMetric(metric)
  }
  const workerRequests = new Counter({
    ...instrumentOptions(METRICS.workerRequests),
    registers: [registry]
  })
  workerRequests.inc({ worker }, 0) // present from the start: a worker that served nothing reads 0
  return {
    proxyMetrics: {
      observeRequest (r) {
        metrics.observeRequest(r)
        workerRequests.inc({ worker })
      },
      setEndpointHealthy (service, endpoint, healthy) { metrics.setEndpointHealthy(service, endpoint, healthy) },
      observeCircuitBreaker (service, reason) { metrics.observeCircuitBreaker(service, reason) },
      observeFrontendLimit (limit) { metrics.observeFrontendLimit(limit) },
      removeEndpoint (service, endpoint) { metrics.removeEndpoint(service, endpoint) }
    },
    json: async () => await registry.getMetricsAsJSON()
  }
}

/**
 * Returns `primary` with its `text()` replaced by the cluster's exposition: prom-client's
 * `AggregatorRegistry.aggregate` over every worker's {@link WorkerMetrics.json} (from
 * `gather`, which throws when a running worker does not answer: the scrape fails rather than
 * showing sums that silently drop a worker) and the primary's own credential metrics.
 *
 * Why not `clusterMetrics()`: it asks every connected worker, including one still loading its
 * modules after a restart, which cannot answer yet; the whole scrape then fails after its fixed
 * 5 s. `gather` asks only the workers whose proxy runs, with its own timeout.
 */
export function clusterMetricsView (primary: SpiffeLbMetrics, gather: () => Promise<object[][]>): SpiffeLbMetrics {
  return {
    ...primary,
    text: async () => {
      const own: object[] = []
      for (const name of PRIMARY_METRICS) {
        const metric = primary.registry.getSingleMetric(name)
        if (metric !== undefined) own.push(await metric.get())
      }
      return await AggregatorRegistry.aggregate([...await gather(), own]).metrics()
    }
  }
}
