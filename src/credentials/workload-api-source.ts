import { Client, Metadata, credentials, status, type ClientReadableStream, type StatusObject } from '@grpc/grpc-js'
import { BACKOFF_INITIAL_MS, WORKLOAD_API_FIRST_MESSAGE_TIMEOUT_MS, WORKLOAD_API_RETRY_MAX_MS } from '../defaults.ts'
import { Backoff, type BackoffOptions } from '../internal/backoff.ts'
import { systemClock, type Clock, type TimerHandle } from '../internal/clock.ts'
import { quote, type SpiffeLbError } from '../internal/errors.ts'
import { credentialsError } from './errors.ts'
import type { CredentialSource } from './credential-source.ts'
import type { CredentialStore } from './store.ts'
import { candidateFromResponse } from './workload-api-decode.ts'
import { withDeliveredCrls } from './workload-api-crls.ts'
import { resolveWorkloadApiEndpoint, type WorkloadApiEndpoint } from './workload-api-endpoint.ts'
import { WORKLOAD_API_HEADER, WORKLOAD_API_HEADER_VALUE, workloadApiService, type X509SvidResponse } from './workload-api-wire.ts'

/** Options of {@link createWorkloadApiSource}. */
export interface WorkloadApiSourceOptions {
  /** `unix:///absolute/path` or `tcp://IP:port`; default `$SPIFFE_ENDPOINT_SOCKET`. */
  endpoint?: string
  /** Where `SPIFFE_ENDPOINT_SOCKET` is read from (default `process.env`). */
  env?: Readonly<Record<string, string | undefined>>
  clock?: Clock
  /** Reconnect timing after `Unavailable`, `PermissionDenied` and ended streams (default `BACKOFF_INITIAL_MS` … `WORKLOAD_API_RETRY_MAX_MS`). */
  backoff?: BackoffOptions
}

/**
 * The state of the stream, for `/status` and metrics: `connecting` until the first message,
 * `streaming` while messages flow, `retrying` between a failure and the next attempt, `failed`
 * after `InvalidArgument` (not retried), `stopped` after {@link WorkloadApiSource.stop}.
 */
export type WorkloadApiConnection = 'connecting' | 'streaming' | 'retrying' | 'failed' | 'stopped'

/**
 * Returns the `workload-api` source: streams `FetchX509SVID` from a SPIFFE Workload API (SPIRE
 * agent, the local `workload-api` server) and hands every message, a full state, to the store.
 * Throws `ERR_SPIFFE_CREDENTIALS_WORKLOAD_API_(NO_)ENDPOINT` when the endpoint is unusable.
 * https://github.com/spiffe/spiffe/blob/main/standards/SPIFFE_Workload_API.md
 */
export function createWorkloadApiSource (opts: WorkloadApiSourceOptions = {}): WorkloadApiSource {
  return new WorkloadApiSource(opts)
}

/** See {@link createWorkloadApiSource}. */
export class WorkloadApiSource implements CredentialSource {
  readonly name = 'workload-api'
  readonly endpoint: WorkloadApiEndpoint
  readonly #clock: Clock
  readonly #backoff: Backoff
  #client: Client | undefined
  #call: ClientReadableStream<X509SvidResponse> | undefined
  #store: CredentialStore | undefined
  #timer: TimerHandle | undefined
  #connection: WorkloadApiConnection = 'connecting'
  #stopped = false
  /** Messages are handled in order: verifying a message's CRLs is asynchronous. */
  #queue: Promise<void> = Promise.resolve()
  /** Settles the promise of whoever waits for the next outcome (start, refresh). */
  #waiters: Array<() => void> = []

  constructor (opts: WorkloadApiSourceOptions) {
    this.endpoint = resolveWorkloadApiEndpoint(opts.endpoint, 'credentials.endpoint', opts.env)
    this.#clock = opts.clock ?? systemClock
    this.#backoff = new Backoff({ initialMs: BACKOFF_INITIAL_MS, maxMs: WORKLOAD_API_RETRY_MAX_MS, ...opts.backoff })
  }

  /** The stream's state now. */
  get connection (): WorkloadApiConnection { return this.#connection }

  async start (store: CredentialStore): Promise<void> {
    if (this.#store !== undefined) throw credentialsError('ERR_SPIFFE_CREDENTIALS_STARTED', 'workload-api source already started')
    this.#store = store
    this.#client = new Client(this.endpoint.target, credentials.createInsecure())
    await this.#open()
  }

  /** Reconnects now when the stream is down (also after `InvalidArgument`); a live stream needs nothing. */
  async refresh (): Promise<void> {
    if (this.#stopped || this.#store === undefined || this.#call !== undefined) return
    await this.#open()
  }

  async stop (): Promise<void> {
    if (this.#stopped) return
    this.#stopped = true
    this.#connection = 'stopped'
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer)
    this.#timer = undefined
    const call = this.#call
    this.#call = undefined
    call?.cancel()
    this.#client?.close()
    this.#settle()
  }

  /** Opens the stream; resolves at its first message or its end, whichever comes first. */
  #open (): Promise<void> {
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer)
    this.#timer = undefined
    const client = this.#client
    if (client === undefined || this.#stopped) return Promise.resolve()
    const done = new Promise<void>((resolve) => { this.#waiters.push(resolve) })
    this.#connection = this.#connection === 'streaming' ? 'streaming' : 'connecting'
    const call = openFetchX509Svid(client)
    this.#call = call
    call.on('data', (msg: X509SvidResponse) => { if (this.#call === call) this.#message(msg) })
    call.on('error', () => {}) // every end is handled once, from its status
    call.on('status', (s: StatusObject) => { if (this.#call === call) this.#ended(s) })
    return done
  }

  #message (msg: X509SvidResponse): void {
    const store = this.#store
    if (store === undefined) return
    this.#connection = 'streaming'
    this.#backoff.reset()
    store.setNextRefreshAt(undefined)
    this.#queue = this.#queue.then(async () => {
      try {
        const candidate = candidateFromResponse(msg, store.identity, this.endpoint.address)
        store.offer(this.name, await withDeliveredCrls(candidate, msg.crl, this.endpoint.address))
      } catch (err) {
        // A message that cannot be decoded is kept out; the stream stays open for the next one.
        store.fail(this.name, err)
      }
      this.#settle()
    })
  }

  #ended (s: StatusObject): void {
    this.#call = undefined
    const store = this.#store
    if (this.#stopped || store === undefined) return
    const where = this.endpoint.address
    if (s.code === status.INVALID_ARGUMENT) {
      // The spec: a client must not retry InvalidArgument; the request itself was refused.
      this.#connection = 'failed'
      store.fail(this.name, credentialsError('ERR_SPIFFE_CREDENTIALS_WORKLOAD_API_INVALID_ARGUMENT',
        `the workload api refused the request as invalid (not retried): ${quote(s.details)}`, { at: where }))
      store.setNextRefreshAt(undefined)
      this.#settle()
      return
    }
    if (s.code !== status.OK) store.fail(this.name, rpcError(s, where))
    this.#connection = 'retrying'
    const delay = this.#backoff.next()
    store.setNextRefreshAt(this.#clock.now() + delay)
    const handle = this.#clock.setTimeout(() => {
      if (this.#timer === handle) this.#timer = undefined
      this.#open().catch(() => {})
    }, delay)
    handle.unref()
    this.#timer = handle
    this.#settle()
  }

  #settle (): void {
    const waiters = this.#waiters
    this.#waiters = []
    for (const w of waiters) w()
  }
}

/** Opens `FetchX509SVID` on `client` with the `workload.spiffe.io: true` header. */
export function openFetchX509Svid (client: Client): ClientReadableStream<X509SvidResponse> {
  const method = workloadApiService().FetchX509SVID
  if (method === undefined) throw credentialsError('ERR_SPIFFE_CREDENTIALS_WORKLOAD_API_RPC', 'workload.proto lacks the FetchX509SVID method')
  const metadata = new Metadata()
  metadata.set(WORKLOAD_API_HEADER, WORKLOAD_API_HEADER_VALUE)
  return client.makeServerStreamRequest<object, X509SvidResponse>(method.path,
    method.requestSerialize, method.responseDeserialize as (b: Buffer) => X509SvidResponse, {}, metadata)
}

/**
 * Returns the SPIFFE ID of the default SVID (the first of the first message, SPIFFE Workload
 * API §5.2) at `endpoint`: for a workload that takes whatever identity it is given. Waits up to
 * `timeoutMs` for a message; throws the stream's error (`ERR_SPIFFE_CREDENTIALS_WORKLOAD_API_*`).
 */
export async function defaultSvidId (endpoint: WorkloadApiEndpoint, timeoutMs = WORKLOAD_API_FIRST_MESSAGE_TIMEOUT_MS): Promise<string> {
  const client = new Client(endpoint.target, credentials.createInsecure(), { 'grpc.enable_retries': 0 })
  const call = openFetchX509Svid(client)
  try {
    return await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(credentialsError('ERR_SPIFFE_CREDENTIALS_WORKLOAD_API_UNAVAILABLE', `no message from the workload api within ${timeoutMs} ms`, { at: endpoint.address }))
      }, timeoutMs)
      call.on('data', (msg: X509SvidResponse) => {
        clearTimeout(timer)
        const id = msg.svids[0]?.spiffe_id
        if (id === undefined) reject(credentialsError('ERR_SPIFFE_CREDENTIALS_IDENTITY_NOT_DELIVERED', 'the workload api sent no svid', { at: endpoint.address }))
        else resolve(id)
      })
      call.on('error', () => {})
      call.on('status', (s: StatusObject) => {
        clearTimeout(timer)
        reject(s.code === status.INVALID_ARGUMENT
          ? credentialsError('ERR_SPIFFE_CREDENTIALS_WORKLOAD_API_INVALID_ARGUMENT', `the workload api refused the request as invalid: ${quote(s.details)}`, { at: endpoint.address })
          : rpcError(s, endpoint.address))
      })
    })
  } finally {
    call.cancel()
    client.close()
  }
}

function rpcError (s: StatusObject, where: string): SpiffeLbError {
  if (s.code === status.PERMISSION_DENIED) {
    return credentialsError('ERR_SPIFFE_CREDENTIALS_WORKLOAD_API_NO_IDENTITY',
      `the workload api has no identity for this workload yet (PermissionDenied, retrying): ${quote(s.details)}`, { at: where })
  }
  if (s.code === status.UNAVAILABLE) {
    return credentialsError('ERR_SPIFFE_CREDENTIALS_WORKLOAD_API_UNAVAILABLE',
      `the workload api is unavailable (retrying): ${quote(s.details)}`, { at: where })
  }
  return credentialsError('ERR_SPIFFE_CREDENTIALS_WORKLOAD_API_RPC',
    `the workload api stream failed with ${status[s.code] ?? String(s.code)} (retrying): ${quote(s.details)}`, { at: where })
}
