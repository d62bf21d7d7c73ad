import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { METRICS } from '../src/admin/metric-definitions.ts'
import { workerMetrics } from '../src/admin/cluster-metrics.ts'
import { createMetrics } from '../src/admin/metrics.ts'
import { ROOT, renderMetricsDoc } from '../scripts/docs.ts'

const definitions = Object.values(METRICS)

/** Returns name, type, help and labels of every metric a real registry holds. */
async function registered (): Promise<Array<{ name: string, type: string, help: string, labelNames: string[] }>> {
  const metrics = createMetrics()
  const worker = workerMetrics(metrics, '1')
  const own = metrics.registry.getMetricsAsArray()
  const json = await worker.json() as Array<{ name: string, type: string, help: string, values: Array<{ labels: Record<string, string> }> }>
  const extra = json.filter((m) => own.every((o) => o.name !== m.name))
  return [
    // prom-client keeps an instrument's label names on the instance, not in its typed metadata.
    ...own.map((m) => ({ name: m.name, type: String(m.type), help: m.help, labelNames: [...(m as unknown as { labelNames: string[] }).labelNames] })),
    ...extra.map((m) => ({ name: m.name, type: m.type, help: m.help, labelNames: Object.keys(m.values[0]?.labels ?? {}) }))
  ]
}

t.test('docs/metrics.md is the document generated from the metric definitions', async (t) => {
  t.equal(readFileSync(join(ROOT, 'docs', 'metrics.md'), 'utf8'), renderMetricsDoc(definitions), 'run `npm run docs` and commit docs/metrics.md')
})

t.test('every registered metric is documented as registered, and nothing documented is missing', async (t) => {
  const real = await registered()
  const doc = readFileSync(join(ROOT, 'docs', 'metrics.md'), 'utf8')
  t.same(real.map((m) => m.name).sort(), definitions.map((d) => d.name).sort(), 'the same names')
  for (const m of real) {
    const d = definitions.find((x) => x.name === m.name)
    t.same(d === undefined ? undefined : { type: d.type, help: d.help, labelNames: [...d.labelNames] },
      { type: m.type, help: m.help, labelNames: m.labelNames }, `${m.name}: type, help and labels`)
    t.ok(doc.includes(`| \`${m.name}\` | ${m.type} |`), `${m.name} has a row in docs/metrics.md`)
  }
})
