/**
 * Options of `spiffe-lb bench proxy` (docs/architecture.md#process-model): parsed from
 * the command line, defaulted, and checked before anything starts.
 */
import type { SpiffeLbError } from '../../internal/errors.ts'
import { benchError } from '../errors.ts'
import { parseHostPort } from '../../internal/host-port.ts'
import { KEY_ALGORITHMS, parseKeyAlgorithm } from '../../pki/index.ts'
import { badOption, parseDurationFlag } from '../flags.ts'
import type { KeyAlgorithm } from '../../pki/index.ts'
import { HOUR_MS } from '../../defaults.ts'

/** The three ways the proxy can reach its backend (see `connectionPool`). */
export type ProxyMode = 'fresh' | 'resumed' | 'pooled'

/** The peer proxies `bench proxy` knows (peer-configs.ts renders their configs), in report order. */
export const PEER_NAMES = ['nginx', 'haproxy'] as const
/** One peer proxy. */
export type PeerName = typeof PEER_NAMES[number]

/** Every mode, in report order. */
export const PROXY_MODES: readonly ProxyMode[] = ['fresh', 'resumed', 'pooled']

/**
 * The protocol the proxies speak to the backend, in report order: `h1` = HTTP/1.1 (spiffe-lb
 * `protocol: HTTPS`), `h2` = HTTP/2 (spiffe-lb `protocol: HTTP2`, the undici baseline with
 * `allowH2`). HTTP/2 multiplexes streams on pooled connections, so `h2` runs only the `pooled`
 * mode (a connection per request is HTTP/1.1's measure), and without the peers (their configs
 * speak HTTP/1.1 upstream).
 */
export const PROXY_PROTOCOLS = ['h1', 'h2'] as const
/** One backend protocol of {@link PROXY_PROTOCOLS}. */
export type ProxyProtocol = typeof PROXY_PROTOCOLS[number]

/** Options of {@link runProxyBench}; every field has a default (see {@link resolveProxyBenchOptions}). */
export interface ProxyBenchOptions {
  /** Default all three. */
  modes?: readonly ProxyMode[]
  /** Backend protocols measured; default `['h1']`. `h2` runs the `pooled` mode only. */
  protocols?: readonly ProxyProtocol[]
  /** autocannon connections to the frontend; default 16 (8 with `quick`). */
  connections?: number
  /** Measured time per side per mode, ms; default 5 000 (2 000 with `quick`). */
  durationMs?: number
  /** Unmeasured load per side before measuring, ms; default 1 000 (500 with `quick`). */
  warmupMs?: number
  /** Measured slices per side per mode (alternating subject and baseline); default about one per second, at least 2. */
  slices?: number
  /** `serve --workers` values; default [1]. A second value makes a scaling run. */
  workers?: readonly number[]
  keyAlgorithm?: KeyAlgorithm
  /** Load an already running spiffe-lb frontend (`HOST:PORT`) instead of starting one. */
  targetProxy?: string
  /** With `targetProxy`: the pid whose process tree's CPU is the proxy's. */
  proxyPid?: number
  /** Peer proxies measured alongside (those installed); default both. */
  peers?: readonly PeerName[]
  /** Shorter defaults for a quick look. */
  quick?: boolean
  /** Show autocannon's progress bar; default: when stderr is a TTY. */
  progressBar?: boolean
}

/** The options with every default applied. */
export interface ResolvedProxyBenchOptions {
  modes: ProxyMode[]
  protocols: ProxyProtocol[]
  connections: number
  durationMs: number
  warmupMs: number
  slices: number
  workers: number[]
  keyAlgorithm: KeyAlgorithm
  targetProxy: string | undefined
  proxyPid: number | undefined
  peers: PeerName[]
  quick: boolean
  progressBar: boolean
}

function bad (flag: string, rule: string, value: unknown): SpiffeLbError {
  return badOption(flag, value, rule)
}

function positiveInt (flag: string, value: number, min = 1, max = 100_000): number {
  if (!Number.isInteger(value) || value < min || value > max) throw bad(flag, `must be an integer from ${min} to ${max}`, value)
  return value
}

/**
 * Returns the options with defaults applied. Throws `ERR_SPIFFE_BENCH_BAD_OPTION` naming the
 * flag for a value out of range or a combination that cannot run.
 */
export function resolveProxyBenchOptions (o: ProxyBenchOptions): ResolvedProxyBenchOptions {
  const quick = o.quick === true
  const modes = [...(o.modes ?? PROXY_MODES)]
  if (modes.length === 0) throw bad('--modes', 'must name at least one mode', '')
  for (const m of modes) if (!PROXY_MODES.includes(m)) throw bad('--modes', `must be a list of ${PROXY_MODES.join(', ')}`, m)
  const protocols = [...(o.protocols ?? ['h1'])]
  if (protocols.length === 0) throw bad('--protocol', 'must name at least one protocol', '')
  for (const p of protocols) if (!PROXY_PROTOCOLS.includes(p)) throw bad('--protocol', `must be a list of ${PROXY_PROTOCOLS.join(', ')}`, p)
  if (protocols.includes('h2') && !modes.includes('pooled')) throw bad('--protocol', 'h2 runs only the pooled mode: --modes must include pooled', protocols.join(','))
  const durationMs = o.durationMs ?? (quick ? 2000 : 5000)
  if (!Number.isFinite(durationMs) || durationMs < 200 || durationMs > HOUR_MS) throw bad('--duration', 'must be from 200ms to 1h', durationMs)
  const warmupMs = o.warmupMs ?? (quick ? 500 : 1000)
  if (!Number.isFinite(warmupMs) || warmupMs < 0 || warmupMs > HOUR_MS) throw bad('--warmup', 'must be from 0s to 1h', warmupMs)
  const slices = positiveInt('--slices', o.slices ?? Math.max(2, Math.round(durationMs / 1000)), 1, 1000)
  const workers = [...(o.workers ?? [1])]
  if (workers.length === 0) throw bad('--workers', 'must name at least one worker count', '')
  for (const w of workers) positiveInt('--workers', w, 1, 256)
  if (new Set(workers).size !== workers.length) throw bad('--workers', 'must not repeat a worker count', workers.join(','))
  if (o.targetProxy !== undefined) {
    parseHostPortOption('--target-proxy', o.targetProxy)
    if (workers.length > 1) throw bad('--workers', 'can name only one worker count with --target-proxy (the running proxy is not restarted)', workers.join(','))
  }
  if (o.proxyPid !== undefined) {
    positiveInt('--proxy-pid', o.proxyPid, 1, 2 ** 31)
    if (o.targetProxy === undefined) throw bad('--proxy-pid', 'needs --target-proxy (a started proxy is measured by its own pid)', o.proxyPid)
  }
  return {
    modes: PROXY_MODES.filter((m) => modes.includes(m)),
    protocols: PROXY_PROTOCOLS.filter((p) => protocols.includes(p)),
    connections: positiveInt('--connections', o.connections ?? (quick ? 8 : 16), 1, 10_000),
    durationMs,
    warmupMs,
    slices,
    workers,
    keyAlgorithm: o.keyAlgorithm ?? 'ECDSA_P256',
    targetProxy: o.targetProxy,
    proxyPid: o.proxyPid,
    peers: PEER_NAMES.filter((n) => (o.peers ?? PEER_NAMES).includes(n)),
    quick,
    progressBar: o.progressBar ?? process.stderr.isTTY === true
  }
}

/** Returns `HOST:PORT` split; throws `ERR_SPIFFE_BENCH_BAD_OPTION` naming `flag`. */
export function parseHostPortOption (flag: string, text: string): { host: string, port: number } {
  try {
    const { host, port } = parseHostPort(text, 'ERR_SPIFFE_BENCH_BAD_OPTION', 1, benchError)
    return { host, port }
  } catch {
    throw bad(flag, 'must be HOST:PORT with a port from 1 to 65535', text)
  }
}

function intOption (flag: string, text: string): number {
  if (!/^\d+$/.test(text.trim())) throw bad(flag, 'must be a whole number', text)
  return Number(text)
}

/** The flags of `bench proxy` as commander hands them over (strings, booleans). */
export interface ProxyBenchFlags {
  modes?: string
  /** `h1`, `h2` or `h1,h2`. */
  protocol?: string
  connections?: string
  duration?: string
  warmup?: string
  slices?: string
  workers?: string
  keyAlgorithm?: string
  targetProxy?: string
  proxyPid?: string
  /** `nginx,haproxy`, one of them, or `none`. */
  peers?: string
  quick?: boolean
}

/** Returns {@link ProxyBenchOptions} from command-line flags; throws `ERR_SPIFFE_BENCH_BAD_OPTION` naming the flag. */
export function parseProxyBenchFlags (f: ProxyBenchFlags): ProxyBenchOptions {
  const o: ProxyBenchOptions = {}
  if (f.modes !== undefined) {
    o.modes = f.modes.split(',').map((s) => s.trim()).filter((s) => s !== '').map((s) => {
      const mode = PROXY_MODES.find((m) => m === s)
      if (mode === undefined) throw bad('--modes', `must be a comma-separated list of ${PROXY_MODES.join(', ')}`, s)
      return mode
    })
  }
  if (f.protocol !== undefined) {
    o.protocols = f.protocol.split(',').map((s) => s.trim()).filter((s) => s !== '').map((s) => {
      const protocol = PROXY_PROTOCOLS.find((p) => p === s)
      if (protocol === undefined) throw bad('--protocol', `must be a comma-separated list of ${PROXY_PROTOCOLS.join(', ')}`, s)
      return protocol
    })
  }
  if (f.connections !== undefined) o.connections = intOption('--connections', f.connections)
  if (f.duration !== undefined) o.durationMs = parseDurationFlag('--duration', f.duration)
  if (f.warmup !== undefined) o.warmupMs = parseDurationFlag('--warmup', f.warmup)
  if (f.slices !== undefined) o.slices = intOption('--slices', f.slices)
  if (f.workers !== undefined) o.workers = f.workers.split(',').map((s) => intOption('--workers', s))
  if (f.keyAlgorithm !== undefined) {
    try {
      o.keyAlgorithm = parseKeyAlgorithm(f.keyAlgorithm)
    } catch {
      throw bad('--key-algorithm', `must be one of ${KEY_ALGORITHMS.join(', ')}`, f.keyAlgorithm)
    }
  }
  if (f.targetProxy !== undefined) o.targetProxy = f.targetProxy
  if (f.proxyPid !== undefined) o.proxyPid = intOption('--proxy-pid', f.proxyPid)
  if (f.peers !== undefined) {
    const names = f.peers.split(',').map((s) => s.trim()).filter((s) => s !== '')
    o.peers = names.length === 1 && names[0] === 'none'
      ? []
      : names.map((s) => {
        const peer = PEER_NAMES.find((n) => n === s)
        if (peer === undefined) throw bad('--peers', `must be none or a comma-separated list of ${PEER_NAMES.join(', ')}`, s)
        return peer
      })
  }
  if (f.quick === true) o.quick = true
  // Resolving now reports range errors before anything starts.
  resolveProxyBenchOptions(o)
  return o
}
