import tls from 'node:tls'
import { quote } from '../../internal/errors.ts'
import { KEY_ALGORITHMS } from '../../pki/index.ts'
import { badOption, parseDurationFlag } from '../flags.ts'
import type { KeyAlgorithm } from '../../pki/index.ts'

export type TlsVersion = 'TLSv1.3' | 'TLSv1.2'
export type HandshakeMode = 'full' | 'resumed'

/** What `bench handshake` connects to (docs/architecture.md#process-model). */
export type HandshakeTargetSpec =
  | { kind: 'spiffe-lb' }
  | { kind: 'openssl' }
  | {
    kind: 'address'
    host: string
    port: number
    /** The client SVID (chain, PEM) and key presented to the address, and the bundles its ID is checked against. */
    cert: string
    key: string
    bundles: Array<{ trustDomain: string, file: string }>
  }

/** Options of `runHandshakeBench`; durations in ms. */
export interface HandshakeBenchOptions {
  keyAlgorithms: KeyAlgorithm[]
  chainDepths: Array<1 | 2>
  tlsVersions: TlsVersion[]
  groups: string[]
  modes: HandshakeMode[]
  /** Handshakes in flight per side. */
  concurrency: number
  /** Measured time per cell, split evenly between subject and baseline. */
  durationMs: number
  /** Unmeasured handshakes per cell before the slices, split evenly between the sides. */
  warmupMs: number
  /** Length of one measuring slice; sides alternate slice by slice. */
  sliceMs: number
  target: HandshakeTargetSpec
  /** True when the `--quick` preset filled the unset options. */
  quick: boolean
  /** Stops the run between handshakes (SIGINT); the run then cleans up and rejects. */
  signal?: AbortSignal
}

/** The raw flags of `spiffe-lb bench handshake`, as commander hands them over (strings). */
export interface HandshakeFlags {
  keyAlgorithms?: string | undefined
  chainDepths?: string | undefined
  tlsVersions?: string | undefined
  groups?: string | undefined
  modes?: string | undefined
  concurrency?: string | undefined
  duration?: string | undefined
  warmup?: string | undefined
  slice?: string | undefined
  target?: string | undefined
  cert?: string | undefined
  key?: string | undefined
  bundle?: string[] | undefined
  quick?: boolean | undefined
}

/** The full default matrix: 5 key algorithms x 2 depths x 2 versions x 3 groups x 2 modes (TLS 1.2 x hybrid groups skipped). */
export const DEFAULT_FLAGS = {
  keyAlgorithms: KEY_ALGORITHMS.join(','),
  chainDepths: '1,2',
  tlsVersions: 'TLSv1.3,TLSv1.2',
  groups: 'X25519,P-256,X25519MLKEM768',
  modes: 'full,resumed',
  concurrency: '8',
  duration: '3s',
  warmup: '1s',
  slice: '250ms',
  target: 'spiffe-lb'
} as const

/**
 * `--quick` (what `npm run bench` runs): 16 cells, ECDSA_P256 and RSA_2048, both depths, both
 * versions, X25519, full and resumed, 2.4 s measured + 0.4 s warm-up per cell: about 60 s on
 * 2 cores, key generation and backend start-ups included.
 */
export const QUICK_FLAGS = {
  ...DEFAULT_FLAGS,
  keyAlgorithms: 'ECDSA_P256,RSA_2048',
  groups: 'X25519',
  duration: '2400ms',
  warmup: '400ms',
  slice: '200ms'
} as const

const fail = (flag: string, value: string, rule: string): never => { throw badOption(flag, value, rule) }

/** Returns the non-empty, de-duplicated items of a comma list, each checked by `item`. */
function list<T> (flag: string, value: string, item: (s: string) => T | undefined, rule: string): T[] {
  const words = value.split(',').map((s) => s.trim()).filter((s) => s !== '')
  if (words.length === 0) fail(flag, value, 'must be a non-empty comma-separated list')
  const out: T[] = []
  for (const w of words) {
    const parsed = item(w)
    if (parsed === undefined) fail(flag, w, rule)
    else if (!out.includes(parsed)) out.push(parsed)
  }
  return out
}

/** Returns true when OpenSSL (as linked into this Node) knows the key-exchange group `name`. */
export function knownGroup (name: string): boolean {
  if (!/^[A-Za-z0-9_-]+$/.test(name)) return false
  try {
    tls.createSecureContext({ ecdhCurve: name })
    return true
  } catch {
    return false
  }
}

function parseTarget (flags: HandshakeFlags): HandshakeTargetSpec {
  const target = flags.target ?? DEFAULT_FLAGS.target
  if (target === 'spiffe-lb' || target === 'openssl') {
    for (const f of ['cert', 'key'] as const) {
      if (flags[f] !== undefined) fail(`--${f}`, flags[f], `is only used with --target HOST:PORT (the target is ${quote(target)})`)
    }
    if ((flags.bundle ?? []).length > 0) fail('--bundle', flags.bundle?.join(' ') ?? '', 'is only used with --target HOST:PORT')
    return { kind: target }
  }
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]\s]+)):(\d{1,5})$/.exec(target)
  const port = Number(m?.[3])
  if (m === null || port < 1 || port > 65535) return fail('--target', target, 'must be spiffe-lb, openssl or HOST:PORT')
  if (flags.cert === undefined || flags.key === undefined || (flags.bundle ?? []).length === 0) {
    return fail('--target', target, 'needs the client credentials --cert FILE --key FILE --bundle TD=FILE')
  }
  const bundles = (flags.bundle ?? []).map((b) => {
    const eq = b.indexOf('=')
    if (eq <= 0 || eq === b.length - 1) fail('--bundle', b, 'must be TRUST_DOMAIN=PEM_FILE')
    return { trustDomain: b.slice(0, eq), file: b.slice(eq + 1) }
  })
  return { kind: 'address', host: m[1] ?? m[2] ?? '', port, cert: flags.cert, key: flags.key, bundles }
}

/**
 * Returns the options of a run from the CLI flags: unset flags take the `--quick` preset when
 * `quick` is set, else {@link DEFAULT_FLAGS}. Throws `ERR_SPIFFE_BENCH_BAD_OPTION` naming the
 * flag and quoting the value for anything unusable.
 */
export function parseHandshakeFlags (flags: HandshakeFlags): HandshakeBenchOptions {
  const quick = flags.quick === true
  const d = quick ? QUICK_FLAGS : DEFAULT_FLAGS
  const pick = (k: keyof typeof DEFAULT_FLAGS): string => flags[k] ?? d[k]
  const concurrencyText = pick('concurrency')
  const concurrency = Number(concurrencyText)
  if (!/^\d+$/.test(concurrencyText.trim()) || concurrency < 1 || concurrency > 1024) {
    fail('--concurrency', concurrencyText, 'must be a whole number from 1 to 1024')
  }
  const sliceMs = parseDurationFlag('--slice', pick('slice'), 10)
  const durationMs = parseDurationFlag('--duration', pick('duration'), 1)
  if (durationMs < 2 * sliceMs) fail('--duration', pick('duration'), `must cover at least one slice per side (2 x --slice ${sliceMs} ms)`)
  return {
    keyAlgorithms: list('--key-algorithms', pick('keyAlgorithms'), (s) => KEY_ALGORITHMS.find((a) => a === s),
      `is not a key algorithm (${KEY_ALGORITHMS.join(', ')})`),
    chainDepths: list('--chain-depths', pick('chainDepths'), (s) => (s === '1' ? 1 : s === '2' ? 2 : undefined),
      'is not a chain depth (1 = leaf+root, 2 = leaf+intermediate+root)'),
    tlsVersions: list('--tls-versions', pick('tlsVersions'), (s) => (s === 'TLSv1.3' || s === 'TLSv1.2' ? s : undefined),
      'is not a tls version (TLSv1.3, TLSv1.2)'),
    groups: list('--groups', pick('groups'), (s) => (knownGroup(s) ? s : undefined),
      `is not a key-exchange group openssl ${process.versions.openssl} knows (e.g. X25519, P-256, X25519MLKEM768)`),
    modes: list('--modes', pick('modes'), (s) => (s === 'full' || s === 'resumed' ? s : undefined), 'is not a mode (full, resumed)'),
    concurrency,
    durationMs,
    warmupMs: parseDurationFlag('--warmup', pick('warmup')),
    sliceMs,
    target: parseTarget(flags),
    quick
  }
}
