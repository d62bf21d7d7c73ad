/**
 * `spiffe-lb bench soak`: minutes of mixed traffic (fresh, resumed and pooled services of one
 * `serve`, cycled per request) with the proxy's SVID rotated every few seconds, sampling the RSS
 * and open descriptors of the proxy's process tree over time. It fails when memory keeps growing
 * after the warm-up (soak-analysis.ts). Bounded: it stops by itself after `durationMs`.
 */
import { quote } from '../../internal/errors.ts'
import { writeCredentialGeneration } from '../../control/credential-writer.ts'
import { renderTrustBundles } from '../../credentials/gce-files.ts'
import { processTreeMemory } from '../child-process.ts'
import { benchEnvironment } from '../environment.ts'
import { runLoad } from '../proxy/proxy-load.ts'
import { createProxyWorld } from '../proxy/proxy-world.ts'
import type { ProxyWorld } from '../proxy/proxy-world.ts'
import type { BenchReport, SoakResult, SoakSample } from '../report-model.ts'
import { analyseSoak, soakTargets } from './soak-analysis.ts'
import { resolveSoakOptions } from './soak-options.ts'
import type { SoakOptions } from './soak-options.ts'
import { benchError } from '../errors.ts'
import { MINUTE_MS } from '../../defaults.ts'

/** One request to each mode's service, cycled by every connection. */
const PATHS = ['/fresh/soak', '/resumed/soak', '/pooled/soak'] as const

/** Writes a new client SVID generation into the proxy's credential directory. */
async function rotate (world: ProxyWorld): Promise<void> {
  const issued = await world.pki.reissueClient()
  const bundle = world.pki.bundles.get(world.pki.trustDomain)
  await writeCredentialGeneration(world.credentialsDir, {
    configStatus: '',
    certificates: issued.chainPem,
    privateKey: issued.keyPem,
    caCertificates: world.pki.rootPem,
    trustBundles: renderTrustBundles(bundle === undefined ? [] : [{ bundle, sequence: 1 }])
  }, Date.now())
}

/**
 * Runs the soak and returns its report (kind `soak`) with the checks of soak-analysis.ts.
 * Writes no report files; every child and the temporary directory are removed on return.
 */
export async function runSoakBench (options: SoakOptions, progress: (line: string) => void = () => {}): Promise<BenchReport> {
  const o = resolveSoakOptions(options)
  const environment = benchEnvironment()
  progress('creating credentials, starting the backend and spiffe-lb serve (fresh, resumed and pooled services)')
  const world = await createProxyWorld('ECDSA_P256')
  const samples: SoakSample[] = []
  const totals = { requests: 0, non2xx: 0, errors: 0, rotations: 0 }
  try {
    const proxy = await world.startProxy('mixed', 1)
    // Each mode answers once before the clock starts: on a loaded machine the first backend
    // handshakes (cold code) could otherwise fill a short soak with no completed request.
    for (const path of PATHS) await answered(`http://${proxy.address}${path}`)
    const started = performance.now()
    const elapsed = (): number => performance.now() - started
    let nextRotation = o.rotateEveryMs
    let rotating = Promise.resolve()
    const sample = (): void => {
      const mem = processTreeMemory(proxy.child.pid)
      samples.push({ atSeconds: elapsed() / 1000, rssKb: mem.rssKb, fds: mem.fds, requests: totals.requests, rotations: totals.rotations })
    }
    sample()
    while (elapsed() < o.durationMs) {
      const slice = await runLoad({ url: `http://${proxy.address}/`, paths: PATHS, connections: o.connections, durationMs: Math.min(o.sampleEveryMs, o.durationMs - elapsed()), progressBar: false, title: 'soak' })
      totals.requests += slice.requests
      totals.non2xx += slice.non2xx
      totals.errors += slice.errors
      if (elapsed() >= nextRotation) {
        nextRotation += o.rotateEveryMs
        // A rotation is written while the load continues: it is exactly what must not fail.
        rotating = rotating.then(async () => { await rotate(world); totals.rotations++ })
      }
      sample()
      const last = samples[samples.length - 1]
      if (last !== undefined && samples.length % 6 === 0) progress(`${Math.round(last.atSeconds)} s: rss ${Math.round(last.rssKb / 1024)} MiB, ${last.fds} fds, ${totals.requests} requests, ${totals.rotations} rotations`)
    }
    await rotating
    await proxy.child.stop(3000)
  } finally {
    await world.close()
  }
  const soak: SoakResult = { durationMs: o.durationMs, warmupMs: o.warmupMs, samples, ...totals, ...analyseSoak(samples, o.warmupMs) }
  return {
    kind: 'soak',
    version: 1,
    environment,
    options: { durationMs: o.durationMs, warmupMs: o.warmupMs, rotateEveryMs: o.rotateEveryMs, sampleEveryMs: o.sampleEveryMs, connections: o.connections, quick: o.quick },
    soak,
    targets: soakTargets(soak)
  }
}

/** Resolves once `url` answered 2xx; throws `ERR_SPIFFE_BENCH_NO_RESPONSES` after 60 s of trying. */
async function answered (url: string): Promise<void> {
  const deadline = performance.now() + MINUTE_MS
  let last = ''
  while (performance.now() < deadline) {
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(30_000) })
      await res.arrayBuffer()
      if (res.ok) return
      last = `status ${res.status}`
    } catch (err) {
      last = err instanceof Error ? err.message : String(err)
    }
    await new Promise((resolve) => setTimeout(resolve, 250))
  }
  throw benchError('ERR_SPIFFE_BENCH_NO_RESPONSES', `the proxy did not answer ${quote(url)} with 2xx before the soak (${last})`, { at: url })
}
