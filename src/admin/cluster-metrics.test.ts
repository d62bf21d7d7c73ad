import t from 'tap'
import { CLUSTER_METRIC_NAMES, clusterMetricsView, workerMetrics } from './cluster-metrics.ts'
import { METRIC_NAMES, createMetrics } from './metrics.ts'

/** Returns the value of the one series of `name` with exactly `labels` (`{a="b"}` or ''), or undefined. */
function series (text: string, name: string, labels: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels} `))
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1))
}

t.test('workers are summed, the worker label and the primary credential metrics are kept', async (t) => {
  const workers = ['1', '2'].map((id) => workerMetrics(createMetrics(), id))
  const [w1, w2] = workers
  if (w1 === undefined || w2 === undefined) throw new Error('no workers')
  const request = { service: 'web', endpoint: '127.0.0.1:1', code: 200, durationSeconds: 0.01 }
  for (let i = 0; i < 3; i++) w1.proxyMetrics.observeRequest(request)
  for (let i = 0; i < 2; i++) w2.proxyMetrics.observeRequest(request)
  w2.proxyMetrics.observeRequest({ ...request, code: 502 })
  w1.proxyMetrics.setEndpointHealthy('web', '127.0.0.1:1', true)
  w2.proxyMetrics.setEndpointHealthy('web', '127.0.0.1:1', false)
  w1.proxyMetrics.setEndpointHealthy('web', '127.0.0.1:2', true)
  w2.proxyMetrics.setEndpointHealthy('web', '127.0.0.1:2', true)

  const primary = createMetrics()
  primary.observeCredentialReload('accepted')
  primary.observeCredentialReload('accepted')
  primary.setIdentityProvider(() => ({ spiffeId: 'spiffe://td/lb', notBefore: 0, notAfter: Date.now() + 60_000 }))
  // Through JSON, as over the IPC channel.
  const gather = async (): Promise<object[][]> => JSON.parse(JSON.stringify(await Promise.all(workers.map(async (w) => await w.json())))) as object[][]
  const text = await clusterMetricsView(primary, gather).text()

  const req = (code: string): string => `{service="web",code="${code}",endpoint="127.0.0.1:1"}`
  t.equal(series(text, METRIC_NAMES.requests, req('200')), 5, 'summed over workers')
  t.equal(series(text, METRIC_NAMES.requests, req('502')), 1)
  t.equal(series(text, `${METRIC_NAMES.requestDuration}_count`, '{service="web"}'), 6, 'histograms summed')
  t.equal(series(text, CLUSTER_METRIC_NAMES.workerRequests, '{worker="1"}'), 3)
  t.equal(series(text, CLUSTER_METRIC_NAMES.workerRequests, '{worker="2"}'), 3)
  t.equal(series(text, METRIC_NAMES.endpointHealthy, '{service="web",endpoint="127.0.0.1:1"}'), 0, 'ejected by one worker: 0')
  t.equal(series(text, METRIC_NAMES.endpointHealthy, '{service="web",endpoint="127.0.0.1:2"}'), 1, 'healthy everywhere: 1, not 2')
  t.equal(series(text, METRIC_NAMES.credentialReloads, '{result="accepted"}'), 2, 'from the primary')
  t.ok((series(text, METRIC_NAMES.svidExpiry, '{spiffe_id="spiffe://td/lb"}') ?? 0) > 0, 'svid gauge from the primary')
  for (const name of [...Object.values(METRIC_NAMES), CLUSTER_METRIC_NAMES.workerRequests]) {
    t.equal(text.match(new RegExp(`^# TYPE ${name} `, 'gm'))?.length, 1, `one ${name} family`)
  }
})

t.test('a scrape fails when a worker cannot report', async (t) => {
  const view = clusterMetricsView(createMetrics(), async () => { throw new Error('worker 2 did not report its metrics') })
  await t.rejects(view.text(), /worker 2 did not report/)
})
