import { createHash } from 'node:crypto'
import { Backoff } from '../internal/backoff.ts'
import { systemClock, type Clock, type TimerHandle } from '../internal/clock.ts'
import { SpiffeLbError, isSpiffeLbError, quote } from '../internal/errors.ts'
import { configStatusErrors, renderTrustBundles } from '../credentials/gce-files.ts'
import { DEFAULT_METADATA_ROOT, MetadataClient } from '../credentials/metadata-client.ts'
import { expectOk, parseTrustAnchors, parseWorkloadIdentities } from '../credentials/metadata-documents.ts'
import { SpiffeId } from '../spiffe/spiffe-id.ts'
import { TrustDomain } from '../spiffe/trust-domain.ts'
import { X509Bundle } from '../spiffe/x509-bundle.ts'
import { currentGeneration, writeCredentialGeneration, type CredentialFiles } from './credential-writer.ts'
import { METADATA_POLL_INTERVAL_MS } from '../defaults.ts'
import { controlError } from './errors.ts'

/** Options of {@link runAgent}. */
export interface AgentOptions {
  /** The metadata server's root (default `http://metadata.google.internal`). */
  metadataUrl?: string
  /** The credential directory to maintain (a symlink), e.g. `/var/run/secrets/workload-spiffe-credentials`. */
  outDir: string
  /** Refresh interval in ms (default 300 000, the guest agent's 5 minutes). */
  intervalMs?: number
  /** Per-request timeout (default 10 000 ms). */
  timeoutMs?: number
  /** Run one refresh and return. */
  once?: boolean
  clock?: Clock
  /** Called after each refresh that failed; the agent keeps running. */
  onError?: (err: SpiffeLbError) => void
  /** Called with the new directory after each write. */
  onWrite?: (dir: string) => void
}

/** What one refresh did. */
export type AgentRefreshResult = 'written' | 'unchanged' | 'not-configured'

/** A running agent. */
export interface AgentHandle {
  /** Number of generations written. */
  readonly writes: number
  readonly lastError: SpiffeLbError | undefined
  /** Resolves with the first refresh's result (or rejects with its error). */
  readonly first: Promise<AgentRefreshResult>
  refreshNow (): Promise<AgentRefreshResult>
  stop (): Promise<void>
}

/**
 * Runs the credential-file agent: polls the metadata server's workload-certificate endpoints
 * and maintains `outDir` in the GCE guest-agent layout, swapping it atomically to a new
 * timestamped directory when anything changed (see {@link writeCredentialGeneration}).
 * HTTP 412 (not configured) writes nothing. With `once`, `first` is the whole job.
 */
export function runAgent (opts: AgentOptions): AgentHandle {
  const clock = opts.clock ?? systemClock
  const intervalMs = opts.intervalMs ?? METADATA_POLL_INTERVAL_MS
  const client = new MetadataClient(opts.metadataUrl ?? DEFAULT_METADATA_ROOT, opts.timeoutMs === undefined ? {} : { timeoutMs: opts.timeoutMs })
  const backoff = new Backoff({ initialMs: Math.min(1000, intervalMs), maxMs: intervalMs })
  const sequences = new Map<string, { fp: string, seq: number }>()
  let lastDigest: string | undefined
  let writes = 0
  let lastError: SpiffeLbError | undefined
  let timer: TimerHandle | undefined
  let running: Promise<AgentRefreshResult> | undefined
  let stopped = false

  const refreshOnce = async (): Promise<AgentRefreshResult> => {
    const status = await client.get('config-status')
    if (status.status === 412) return 'not-configured'
    const statusBody = expectOk(status)
    // Like the guest agent, config_status is written even when the other endpoints fail.
    const configStatus = Object.keys(configStatusErrors(statusBody)).length === 0 ? '' : statusBody
    let files: CredentialFiles
    try {
      files = { configStatus, ...await fetchCredentials(client, sequences) }
    } catch (err) {
      if (await currentGeneration(opts.outDir) === undefined) await writeCredentialGeneration(opts.outDir, { configStatus }, clock.now())
      throw err
    }
    const digest = createHash('sha256').update(JSON.stringify(files)).digest('hex')
    if (digest === lastDigest && await currentGeneration(opts.outDir) !== undefined) return 'unchanged'
    const dir = await writeCredentialGeneration(opts.outDir, files, clock.now())
    lastDigest = digest
    writes++
    opts.onWrite?.(dir)
    return 'written'
  }

  const cycle = async (): Promise<AgentRefreshResult> => {
    try {
      const result = await refreshOnce()
      lastError = undefined
      backoff.reset()
      schedule(result === 'not-configured' ? backoff.next() : intervalMs)
      return result
    } catch (err) {
      lastError = isSpiffeLbError(err)
        ? err
        : controlError('ERR_SPIFFE_CONTROL_AGENT_FAILED', `agent refresh failed: ${(err as Error).message}`, { cause: err })
      opts.onError?.(lastError)
      schedule(backoff.next())
      throw lastError
    }
  }

  const schedule = (ms: number): void => {
    if (stopped || opts.once === true) return
    if (timer !== undefined) clock.clearTimeout(timer)
    timer = clock.setTimeout(() => { timer = undefined; refreshNow().catch(() => {}) }, ms)
  }

  const refreshNow = async (): Promise<AgentRefreshResult> => {
    if (running !== undefined) await running.catch(() => {})
    const run = cycle()
    running = run
    try { return await run } finally { if (running === run) running = undefined }
  }

  const first = refreshNow()
  first.catch(() => {})
  if (opts.once === true) first.finally(() => { client.close().catch(() => {}) }).catch(() => {})

  return {
    get writes () { return writes },
    get lastError () { return lastError },
    first,
    refreshNow,
    stop: async () => {
      stopped = true
      if (timer !== undefined) clock.clearTimeout(timer)
      timer = undefined
      await running?.catch(() => {})
      await client.close()
    }
  }
}

/** Fetches the identity and trust anchors and renders the credential files. */
async function fetchCredentials (client: MetadataClient, sequences: Map<string, { fp: string, seq: number }>): Promise<Omit<CredentialFiles, 'configStatus'>> {
  const ids = await client.get('workload-identities')
  const creds = [...parseWorkloadIdentities(expectOk(ids), ids.url)]
  const [entry] = creds
  if (entry === undefined || creds.length !== 1) {
    throw controlError('ERR_SPIFFE_CONTROL_AGENT_IDENTITIES',
      `workload-identities must hold exactly one identity, got ${creds.length}`, { at: ids.url })
  }
  const [id, cred] = entry
  const own = SpiffeId.fromString(id).trustDomain
  const anchors = await client.get('trust-anchors')
  const byDomain = parseTrustAnchors(expectOk(anchors), anchors.url)
  const trustDomains: Array<{ bundle: X509Bundle, sequence: number }> = []
  let ownPem: string | undefined
  for (const [key, pem] of byDomain) {
    // Exact trust domain match, not the guest agent's substring test.
    const td = TrustDomain.fromString(key)
    if (td.equals(own)) ownPem = pem
    const bundle = X509Bundle.fromPem(td, pem, `${anchors.url} trustAnchors.${key}`)
    const fp = [...bundle.fingerprints()].sort().join(',')
    const prev = sequences.get(td.name)
    const seq = prev === undefined ? 1 : prev.fp === fp ? prev.seq : prev.seq + 1
    sequences.set(td.name, { fp, seq })
    trustDomains.push({ bundle, sequence: seq })
  }
  if (ownPem === undefined) {
    throw controlError('ERR_SPIFFE_CONTROL_AGENT_NO_OWN_ANCHORS',
      `trust-anchors has no entry for the identity's trust domain ${quote(own.name)}`, { at: anchors.url })
  }
  return {
    certificates: cred.certificatePem,
    privateKey: cred.privateKeyPem,
    caCertificates: ownPem,
    trustBundles: renderTrustBundles(trustDomains)
  }
}
