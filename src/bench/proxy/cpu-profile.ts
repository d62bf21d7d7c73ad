/**
 * Where `serve`'s time goes in pooled mode: a V8 CPU profile (`node --cpu-prof`, the
 * `.cpuprofile` format of the Chrome DevTools protocol's `Profiler.Profile`,
 * https://chromedevtools.github.io/devtools-protocol/tot/Profiler/#type-Profile) read into the
 * shares of a few parts, so the report can say what the access log and the metrics cost per
 * request next to the rest of the data path.
 */
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { quote } from '../../internal/errors.ts'
import { benchError } from '../errors.ts'
import type { ProfileBreakdown } from '../report-model.ts'

/** The part of a `.cpuprofile` this file reads. */
export interface CpuProfile {
  nodes: Array<{ id: number, callFrame: { functionName: string, url: string }, children?: number[] }>
  /** The node id of each sample, in order. */
  samples: number[]
  /** Microseconds since the previous sample, one per sample. */
  timeDeltas: number[]
}

/** How a part is recognised in a sample's stack. */
interface ProfilePart {
  name: string
  /**
   * `inclusive`: the sample has a frame of one of `urls` anywhere in its stack (the part and
   * what it calls); `self`: the sample's own (innermost) frame is one of `urls` or `natives`.
   */
  scope: 'inclusive' | 'self'
  /** Substrings of a frame's script URL. */
  urls: readonly string[]
  /** Function names of frames without a script (native functions and V8's pseudo-frames). */
  natives?: readonly string[]
  /** A per-request extra the report holds under {@link PER_REQUEST_EXTRAS_LIMIT_PERCENT}. */
  extra?: true
}

/**
 * The parts, in the order a sample is given to them (the first that matches takes it). The
 * access log and the metrics come first and count everything below them, so their shares are
 * what they cost, writes included; the rest count their own frames only.
 */
export const PROFILE_PARTS: readonly ProfilePart[] = [
  { name: 'access log', scope: 'inclusive', extra: true, urls: ['/runtime/access-log.', '/process/log-destination.', '/node_modules/sonic-boom/'] },
  { name: 'metrics', scope: 'inclusive', extra: true, urls: ['/admin/metrics.', '/node_modules/prom-client/'] },
  { name: 'socket writes', scope: 'self', urls: [], natives: ['writeBuffer', 'writeLatin1String', 'writeUtf8String', 'writeAsciiString', 'writev'] },
  { name: 'HTTP/1.1 parsing (llhttp)', scope: 'self', urls: ['/proxy/http1/http1-parser.'] },
  { name: 'garbage collection', scope: 'self', urls: [], natives: ['(garbage collector)'] }
]

/** The name of what no part takes. */
export const REST_PART = 'the rest (routing, exchange, headers, streams, TLS, timers)'

/** The parts whose share `bench proxy` holds under {@link PER_REQUEST_EXTRAS_LIMIT_PERCENT}. */
export const PER_REQUEST_EXTRAS: readonly string[] = PROFILE_PARTS.filter((p) => p.extra === true).map((p) => p.name)
/** At most this share of the pooled cost for the access log and the metrics together, percent. */
export const PER_REQUEST_EXTRAS_LIMIT_PERCENT = 10

const IDLE = '(idle)'

function matches (part: ProfilePart, frame: { functionName: string, url: string }): boolean {
  if (frame.url === '') return part.natives?.includes(frame.functionName) ?? false
  return part.urls.some((u) => frame.url.includes(u))
}

/**
 * Returns the busy time of `profile` (every sample but V8's `(idle)`) and the share of it each
 * part of {@link PROFILE_PARTS} took, then the rest, in percent; parts with no sample are listed
 * with 0. Throws `ERR_SPIFFE_BENCH_BAD_PROFILE` when samples name nodes the profile lacks.
 */
export function profileBreakdown (profile: CpuProfile): ProfileBreakdown {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]))
  const parent = new Map<number, number>()
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id)
  // Which part takes a sample depends on its node only: decide once per node.
  const partOf = new Map<number, string | null>()
  const decide = (id: number): string | null => {
    const known = partOf.get(id)
    if (known !== undefined) return known
    const node = byId.get(id)
    if (node === undefined) throw benchError('ERR_SPIFFE_BENCH_BAD_PROFILE', `cpu profile sample names node ${id}, which the profile does not have`)
    let part: string | null = null
    if (node.callFrame.functionName === IDLE) part = IDLE
    for (const p of part === null ? PROFILE_PARTS : []) {
      if (p.scope === 'self' ? matches(p, node.callFrame) : stackMatches(p, id)) { part = p.name; break }
    }
    partOf.set(id, part)
    return part
  }
  const stackMatches = (p: ProfilePart, id: number | undefined): boolean => {
    for (let at = id; at !== undefined; at = parent.get(at)) {
      const frame = byId.get(at)?.callFrame
      if (frame !== undefined && frame.url !== '' && matches(p, frame)) return true
    }
    return false
  }
  const micros = new Map<string, number>()
  let busy = 0
  profile.samples.forEach((id, i) => {
    const part = decide(id) ?? REST_PART
    if (part === IDLE) return
    const dt = Math.max(0, profile.timeDeltas[i] ?? 0)
    busy += dt
    micros.set(part, (micros.get(part) ?? 0) + dt)
  })
  const share = (name: string): number => busy === 0 ? 0 : (micros.get(name) ?? 0) / busy * 100
  return {
    busyMs: busy / 1000,
    samples: profile.samples.length,
    parts: [...PROFILE_PARTS.map((p) => p.name), REST_PART].map((name) => ({ name, percent: share(name) }))
  }
}

/**
 * Returns the one `.cpuprofile` Node wrote into `dir` (`--cpu-prof-dir`), parsed. Throws
 * `ERR_SPIFFE_BENCH_BAD_PROFILE` when there is none, or it is not a profile.
 */
export async function readCpuProfile (dir: string): Promise<CpuProfile> {
  const names = (await readdir(dir)).filter((n) => n.endsWith('.cpuprofile'))
  const name = names[0]
  if (name === undefined) throw benchError('ERR_SPIFFE_BENCH_BAD_PROFILE', `no .cpuprofile was written to ${quote(dir)}`)
  let parsed: unknown
  try {
    parsed = JSON.parse(await readFile(join(dir, name), 'utf8'))
  } catch (err) {
    throw benchError('ERR_SPIFFE_BENCH_BAD_PROFILE', `cpu profile ${quote(name)} is not JSON: ${(err as Error).message}`)
  }
  const p = parsed as Partial<CpuProfile> | null
  if (p === null || !Array.isArray(p.nodes) || !Array.isArray(p.samples) || !Array.isArray(p.timeDeltas) || p.samples.length !== p.timeDeltas.length) {
    throw benchError('ERR_SPIFFE_BENCH_BAD_PROFILE', `cpu profile ${quote(name)} lacks nodes, samples or matching timeDeltas`)
  }
  return p as CpuProfile
}
