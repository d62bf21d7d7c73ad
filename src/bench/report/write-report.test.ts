import t from 'tap'
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { isSpiffeLbError } from '../../internal/errors.ts'
import type { BenchReport, ProxyRun, ProxySample } from '../report-model.ts'
import { renderMarkdown } from './report-markdown.ts'
import { renderSvg } from './report-svg.ts'
import { writeReport } from './write-report.ts'

function sample (rps: number): ProxySample {
  return {
    requests: rps * 2, non2xx: 0, errors: 1, durationMs: 2000, requestsPerSecond: rps, latencyMs: { p50: 1.5, p90: 2.5, p99: 9.25 }, cpuMicrosPerRequest: 1e6 / rps,
    backend: { requests: rps * 2, connections: rps * 2, resumed: 0, newConnectionsPerRequest: 1, resumedFraction: 0 }
  }
}
function report (modes: Array<ProxyRun['mode']>): BenchReport {
  return {
    kind: 'proxy', version: 1, options: { durationMs: 2000, connections: 8 }, targets: [{ name: 'fresh <&>', rule: 'ratio <= 0.85', value: 0.8, met: true }],
    environment: { spiffeLb: '0.3.0', node: 'v24.21.0', openssl: '3.0.13', undici: '8.12.4', platform: 'Linux 6.8.0', arch: 'x64', cpuModel: 'cpu', cpus: 2, startedAt: '2025-06-01T10:00:00.000Z' },
    proxy: modes.map((mode, i) => ({ mode, workers: 1, subject: sample(900 + i * 100), baseline: sample(800 + i * 90), ratio: { cpuPerRequest: 0.8, requestsPerSecond: 1.1 } }))
  }
}

t.test('writes report.json, report.md and chart.svg into a new nested folder', async (t) => {
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'spiffe-lb-report-'))
  t.teardown(async () => { await rm(tmp, { recursive: true, force: true }) })
  const dir = path.join(tmp, 'a', 'b')
  for (const r of [report(['fresh', 'resumed', 'pooled']), report(['pooled'])]) {
    const written = await writeReport(r, dir)
    t.same(written, { json: path.join(dir, 'report.json'), markdown: path.join(dir, 'report.md'), svg: path.join(dir, 'chart.svg') })
    const json = await readFile(written.json, 'utf8')
    t.match(json, /^\{\n {2}"kind": "proxy",\n/, '2-space JSON')
    t.same(JSON.parse(json), r, 'JSON round-trips the report')
    t.equal(await readFile(written.markdown, 'utf8'), renderMarkdown(r))
    t.equal(await readFile(written.svg, 'utf8'), renderSvg(r))
    t.same((await readdir(dir)).sort(), ['chart.svg', 'report.json', 'report.md'], 'no temporary files left')
  }
})

t.test('a relative folder is resolved to absolute paths', async (t) => {
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'spiffe-lb-report-'))
  t.teardown(async () => { await rm(tmp, { recursive: true, force: true }) })
  const relative = path.relative(process.cwd(), path.join(tmp, 'rel'))
  const written = await writeReport(report(['fresh']), relative)
  t.ok(path.isAbsolute(written.json))
  t.equal(written.json, path.join(tmp, 'rel', 'report.json'))
})

const failures: Array<[string, (tmp: string) => Promise<{ dir: string, named: string }>]> = [
  ['the folder is a file', async (tmp) => {
    const file = path.join(tmp, 'not-a-dir')
    await writeFile(file, 'x')
    return { dir: path.join(file, 'out'), named: path.join(file, 'out') }
  }],
  ['report.json is a folder', async (tmp) => {
    const dir = path.join(tmp, 'out')
    await mkdir(path.join(dir, 'report.json', 'inside'), { recursive: true })
    return { dir, named: path.join(dir, 'report.json') }
  }]
]
for (const [name, setup] of failures) {
  t.test(`fails naming the path when ${name}`, async (t) => {
    const tmp = await mkdtemp(path.join(os.tmpdir(), 'spiffe-lb-report-'))
    t.teardown(async () => { await rm(tmp, { recursive: true, force: true }) })
    const { dir, named } = await setup(tmp)
    const err: unknown = await writeReport(report(['fresh']), dir).then(() => null, (e: unknown) => e)
    t.ok(isSpiffeLbError(err, 'ERR_SPIFFE_BENCH_WRITE_FAILED'), 'stable code')
    if (!isSpiffeLbError(err)) return
    t.equal(err.at, named)
    t.ok(err.message.includes(JSON.stringify(named)), `message quotes ${named}`)
    t.ok(err.cause !== undefined, 'keeps the cause')
    if (name === 'report.json is a folder') {
      t.same((await readdir(dir)).sort(), ['report.json'], 'no temporary file left behind')
    }
  })
}
