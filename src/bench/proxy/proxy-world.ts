/**
 * The processes a `bench proxy` run loads; measuring rules: every target is a
 * child process): one `spiffe-lb backend`, and per mode a `spiffe-lb serve` (the subject) and
 * the undici forwarder (the baseline), all on loopback, all in one temporary directory.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { KeyAlgorithm } from '../../pki/index.ts'
import { createBenchPki } from '../bench-pki.ts'
import type { BenchPki } from '../bench-pki.ts'
import { spiffeLbChild, startChild } from '../child-process.ts'
import type { BenchChild, StartChildOptions } from '../child-process.ts'
import { proxyBenchConfig, writeBenchCredentials } from './proxy-config.ts'
import type { ProxyMode, ProxyProtocol } from './proxy-options.ts'
import { openBackendStats } from '../backend-stats.ts'
import type { BackendStatsReader } from '../backend-stats.ts'
import { undiciForwarderArgs } from './undici-forwarder.ts'
import type { PeerName } from './peer-configs.ts'
import { startPeer } from './peer-proxies.ts'
import { benchError } from '../errors.ts'
import { CPU_PROFILE_INTERVAL_US } from '../../defaults.ts'

/** A started HTTP frontend: the proxy or the forwarder. */
export interface Frontend {
  child: BenchChild
  /** `HOST:PORT` of its cleartext listener. */
  address: string
}

/** Everything one run shares; {@link ProxyWorld.close} stops it all. */
export interface ProxyWorld {
  dir: string
  pki: BenchPki
  /** `HOST:PORT` of the backend. */
  backendAddress: string
  /** The proxy's credential directory (GCE layout); a new generation written here is a rotation. */
  credentialsDir: string
  backend: BenchChild
  stats: BackendStatsReader
  /**
   * Starts `spiffe-lb serve` with a config for `mode` (and `--workers` when above 1), speaking
   * `protocol` (default h1) to the backend; with `cpuProfileDir`, Node writes a CPU profile of
   * it there when it stops (`--cpu-prof`).
   */
  startProxy: (mode: ProxyMode | 'mixed', workers: number, protocol?: ProxyProtocol, cpuProfileDir?: string) => Promise<Frontend>
  /** Starts the undici forwarder baseline in `mode`, offering h2 with `protocol` h2. */
  startForwarder: (mode: ProxyMode, protocol?: ProxyProtocol) => Promise<Frontend>
  /** Starts peer `name` (its binary at `executable`) as the same mTLS forwarding proxy in `mode`. */
  startPeer: (name: PeerName, executable: string, mode: ProxyMode) => Promise<Frontend>
  /** Stops every child still running, closes the stats reader, removes the directory. Idempotent. */
  close: () => Promise<void>
}

/**
 * Creates the bench PKI (`keyAlgorithm`, leaf + root), the client credential directory and the
 * backend in a new temporary directory. On failure everything started so far is cleaned up.
 */
export async function createProxyWorld (keyAlgorithm: KeyAlgorithm): Promise<ProxyWorld> {
  const dir = await mkdtemp(join(tmpdir(), 'spiffe-lb-bench-proxy-'))
  const children = new Set<BenchChild>()
  // Children still starting: close() waits for them, so none outlives the run (e.g. on SIGINT).
  const starting = new Set<Promise<unknown>>()
  let stats: BackendStatsReader | undefined
  let closed: Promise<void> | undefined
  const close = async (): Promise<void> => {
    closed ??= (async () => {
      await stats?.close().catch(() => {})
      await Promise.allSettled([...starting])
      await Promise.all([...children].map(async (c) => { await c.stop(3000) }))
      await rm(dir, { recursive: true, force: true })
    })()
    await closed
  }
  const start = async (options: StartChildOptions): Promise<BenchChild> => {
    const name = options.name
    const run = (async (): Promise<BenchChild> => {
      const child = await startChild(options)
      children.add(child)
      if (closed !== undefined) {
        await child.stop(3000)
        throw benchError('ERR_SPIFFE_BENCH_STOPPED', `${name} started after the benchmark was stopped`, { at: name })
      }
      const stop = child.stop.bind(child)
      return { pid: child.pid, ready: child.ready, ...(child.announced === undefined ? {} : { announced: child.announced }), stderr: () => child.stderr(), stop: async (graceMs) => { await stop(graceMs); children.delete(child) } }
    })()
    starting.add(run)
    try {
      return await run
    } finally {
      starting.delete(run)
    }
  }
  try {
    const pki = await createBenchPki(join(dir, 'pki'), keyAlgorithm, 1)
    const credentialsDir = join(dir, 'credentials')
    await writeBenchCredentials(credentialsDir, pki)
    // HAProxy's `crt` takes certificate chain and key in one file.
    const combinedFile = join(dir, 'pki', 'client-combined.pem')
    await writeFile(combinedFile, `${pki.client.chainPem.trimEnd()}\n${pki.client.keyPem}`, { mode: 0o600 })
    const backend = await start(spiffeLbChild('backend', 'backend', '--listen', '127.0.0.1:0',
      '--cert', pki.server.certFile, '--key', pki.server.keyFile, '--bundle', `${pki.trustDomain.name}=${pki.rootFile}`, '--name', 'bench'))
    const backendAddress = backend.announced?.address ?? ''
    stats = openBackendStats(backendAddress, pki.client.chainPem, pki.client.keyPem)
    let configs = 0
    return {
      dir,
      pki,
      backendAddress,
      credentialsDir,
      backend,
      stats,
      close,
      async startProxy (mode, workers, protocol = 'h1', cpuProfileDir) {
        const file = join(dir, `config-${mode}-${++configs}.yaml`)
        await writeFile(file, proxyBenchConfig({ pki, credentialsDir, backend: backendAddress, mode, protocol }))
        // Access log on (level info, one JSON line per request on stdout, into a file), as nginx
        // and HAProxy run with theirs.
        const serve = spiffeLbChild(`spiffe-lb serve (${mode}, ${protocol}, ${workers} worker${workers === 1 ? '' : 's'}${cpuProfileDir === undefined ? '' : ', profiled'})`,
          'serve', '-c', file, '--log-level', 'info', '--drain-timeout', '1s', ...(workers > 1 ? ['--workers', String(workers)] : []))
        const profile = cpuProfileDir === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', cpuProfileDir, '--cpu-prof-interval', String(CPU_PROFILE_INTERVAL_US)]
        const child = await start({ ...serve, args: [...profile, ...serve.args],
          // Every mode's serve starts at once; on a machine shared with other load that takes long.
          timeoutMs: 120_000,
          // The access log goes to a file, as nginx's does (peer-configs.ts).
          stdoutFile: join(dir, `serve-${mode}-${configs}.log`)
        })
        return { child, address: child.announced?.address ?? '' }
      },
      async startForwarder (mode, protocol = 'h1') {
        const child = await start({
          name: `undici forwarder (${mode}, ${protocol})`,
          args: undiciForwarderArgs({ listen: '127.0.0.1:0', backend: backendAddress, certFile: pki.client.certFile, keyFile: pki.client.keyFile, mode, h2: protocol === 'h2' }),
          ready: /^listening on (\S+)/
        })
        return { child, address: child.ready?.[1] ?? '' }
      },
      async startPeer (name, executable, mode) {
        return await startPeer(name, executable, {
          mode,
          backend: backendAddress,
          certFile: pki.client.certFile,
          keyFile: pki.client.keyFile,
          combinedFile,
          caFile: pki.rootFile,
          dir: join(dir, 'peers')
        }, async (label, command, args, ready) => await start({ name: label, command, args, ready }))
      }
    }
  } catch (err) {
    await close()
    throw err
  }
}
