import cluster, { type Worker } from 'node:cluster'
import { serveError, type ServeErrorCode } from './errors.ts'
import { dirname, extname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Logger } from 'pino'
import { Backoff } from '../internal/backoff.ts'
import type { Clock, TimerHandle } from '../internal/clock.ts'
import { isClusterMessage } from './cluster-messages.ts'
import type { PrimaryMessage, ReplyBody, WorkerMessage, WorkerRequest } from './cluster-messages.ts'
import { RESTART_BACKOFF_INITIAL_MS, RESTART_BACKOFF_MAX_MS, WORKER_STABLE_MS } from '../defaults.ts'

/** Where a worker's proxy listens, as it reported it. */
export interface WorkerAddress { address: string, family: string, port: number }

/** Options of {@link WorkerSet}. */
export interface WorkerSetOptions {
  count: number
  /** Returns the init message of worker `slot` ('1'..'N'), built when it asks: current plan and snapshots. */
  init (slot: string): PrimaryMessage
  log: Logger
  clock: Clock
}

interface Slot {
  id: string
  worker: Worker | undefined
  /** forking: no hello yet; initialised: init sent; ready: its proxy listens. */
  state: 'forking' | 'initialised' | 'ready' | 'stopped'
  backoff: Backoff
  timer: TimerHandle | undefined
  started: number
}

interface Pending { slot: Slot, resolve (body: ReplyBody): void, timer: TimerHandle }


/** The worker entry module, with this module's own extension: `.ts` from source, `.js` from dist. */
const here = fileURLToPath(import.meta.url)
const WORKER_ENTRY = join(dirname(here), `cluster-worker-main${extname(here)}`)

/**
 * The node:cluster workers of `serve --workers N`, seen from the primary: forks them, answers
 * their `hello` with the init message, restarts one that dies unexpectedly (with back-off,
 * under the same slot so its metrics label stays), carries requests with a timeout, and
 * drains them all on shutdown.
 */
export class WorkerSet {
  readonly #opts: WorkerSetOptions
  readonly #slots: Slot[]
  readonly #pending = new Map<number, Pending>()
  #nextId = 1
  #stopping = false
  /** True once every worker was ready the first time: from then on, a dead worker is restarted. */
  #running = false
  #starting: { resolve (a: WorkerAddress): void, reject (err: Error): void } | undefined
  #address: WorkerAddress | undefined
  #onStopped: (() => void) | undefined

  constructor (options: WorkerSetOptions) {
    this.#opts = options
    this.#slots = Array.from({ length: options.count }, (_v, i) => ({
      id: String(i + 1), worker: undefined, state: 'forking', backoff: new Backoff({ initialMs: RESTART_BACKOFF_INITIAL_MS, maxMs: RESTART_BACKOFF_MAX_MS }), timer: undefined, started: 0
    }))
  }

  /** Process ids of the running workers. */
  get pids (): number[] { return this.#slots.flatMap((s) => s.worker?.process.pid ?? []) }

  /** Forks every worker; resolves with the shared proxy address once all listen, rejects when one fails first. */
  async start (): Promise<WorkerAddress> {
    cluster.setupPrimary({ exec: WORKER_ENTRY, args: [] })
    const started = new Promise<WorkerAddress>((resolve, reject) => { this.#starting = { resolve, reject } })
    for (const slot of this.#slots) this.#fork(slot)
    return await started
  }

  /** Sends `message` to every worker that was initialised (later ones get it in their init). */
  broadcast (message: PrimaryMessage): void {
    for (const slot of this.#slots) {
      if ((slot.state === 'initialised' || slot.state === 'ready') && slot.worker?.isConnected() === true) slot.worker.send(message)
    }
  }

  /**
   * Asks every worker; resolves with one answer per slot: a worker that is not running, exits,
   * or does not answer within `timeoutMs` answers `ok: false` with the reason.
   */
  async request (request: WorkerRequest, timeoutMs: number): Promise<Array<{ worker: string } & ReplyBody>> {
    return await Promise.all(this.#slots.map(async (slot) => ({ worker: slot.id, ...await this.#ask(slot, request, timeoutMs) })))
  }

  /** Tells every worker to drain within `deadlineMs`, kills what is left a little later, resolves when all exited. */
  async drain (deadlineMs: number): Promise<void> {
    this.#stopping = true
    for (const slot of this.#slots) {
      if (slot.timer !== undefined) this.#opts.clock.clearTimeout(slot.timer)
      if (slot.worker === undefined) slot.state = 'stopped'
      else if (slot.state === 'forking' || slot.worker.isConnected() !== true) slot.worker.process.kill('SIGKILL')
      else slot.worker.send({ type: 'spiffe-lb:drain', deadlineMs })
    }
    const stopped = new Promise<void>((resolve) => { this.#onStopped = resolve })
    this.#checkStopped()
    const kill = this.#opts.clock.setTimeout(() => {
      for (const slot of this.#slots) slot.worker?.process.kill('SIGKILL')
    }, deadlineMs + 5_000)
    await stopped
    this.#opts.clock.clearTimeout(kill)
  }

  #fork (slot: Slot): void {
    slot.timer = undefined
    slot.state = 'forking'
    const worker = cluster.fork()
    slot.worker = worker
    worker.on('message', (message: unknown) => { this.#onMessage(slot, worker, message) })
    worker.on('exit', (code: number | null, signal: string | null) => { this.#onExit(slot, worker, code, signal) })
    worker.on('error', (err: Error) => { this.#opts.log.warn({ err, worker: slot.id }, 'worker channel error') })
  }

  #onMessage (slot: Slot, worker: Worker, raw: unknown): void {
    if (!isClusterMessage(raw) || slot.worker !== worker) return
    const message = raw as WorkerMessage
    switch (message.type) {
      case 'spiffe-lb:hello':
        slot.state = 'initialised'
        worker.send(this.#opts.init(slot.id))
        return
      case 'spiffe-lb:ready':
        this.#onReady(slot, worker, message.address)
        return
      case 'spiffe-lb:failed':
        this.#opts.log.error({ worker: slot.id, pid: worker.process.pid, code: message.code }, `worker could not start: ${message.message}`)
        this.#starting?.reject(Object.assign(new Error(`worker ${slot.id} could not start: ${message.message}`), { code: message.code }))
        this.#starting = undefined
        return
      case 'spiffe-lb:reply': {
        const pending = this.#pending.get(message.id)
        if (pending === undefined || pending.slot !== slot) return
        this.#pending.delete(message.id)
        this.#opts.clock.clearTimeout(pending.timer)
        const { type: _type, id: _id, ...body } = message
        pending.resolve(body)
      }
    }
  }

  #onReady (slot: Slot, worker: Worker, address: WorkerAddress): void {
    slot.state = 'ready'
    slot.started = this.#opts.clock.now()
    if (this.#address === undefined) this.#address = address
    else if (address.port !== this.#address.port) {
      // Only with `listen: HOST:0` after every worker had died: the shared handle was gone.
      this.#opts.log.warn({ worker: slot.id, port: address.port, was: this.#address.port }, 'the proxy listener port changed')
      this.#address = address
    }
    if (!this.#running && this.#slots.every((s) => s.state === 'ready')) {
      this.#running = true
      this.#starting?.resolve(this.#address)
      this.#starting = undefined
    } else if (this.#running) {
      this.#opts.log.info({ worker: slot.id, pid: worker.process.pid, restarts: slot.backoff.attempts }, 'worker restarted')
    }
    // Reset the back-off only once the worker stayed up: a crash loop keeps backing off.
    const timer = this.#opts.clock.setTimeout(() => { if (slot.worker === worker) slot.backoff.reset() }, WORKER_STABLE_MS)
    timer.unref()
  }

  #onExit (slot: Slot, worker: Worker, code: number | null, signal: string | null): void {
    if (slot.worker !== worker) return
    slot.worker = undefined
    for (const [id, p] of this.#pending) {
      if (p.slot !== slot) continue
      this.#pending.delete(id)
      this.#opts.clock.clearTimeout(p.timer)
      p.resolve({ ok: false, code: 'ERR_SPIFFE_SERVE_WORKER_EXITED' satisfies ServeErrorCode, message: 'the worker exited' })
    }
    if (this.#stopping) {
      slot.state = 'stopped'
      this.#checkStopped()
      return
    }
    const pid = worker.process.pid
    if (!this.#running) {
      this.#starting?.reject(serveError('ERR_SPIFFE_SERVE_WORKER_EXITED', `worker ${slot.id} (pid ${pid ?? '?'}) exited before it was ready (${signal ?? `code ${code ?? '?'}`})`))
      this.#starting = undefined
      slot.state = 'stopped'
      return
    }
    const delay = slot.backoff.next()
    this.#opts.log.warn({ worker: slot.id, pid, code, signal, restartInMs: delay }, 'worker died unexpectedly; restarting it')
    slot.state = 'forking'
    slot.timer = this.#opts.clock.setTimeout(() => { if (!this.#stopping) this.#fork(slot) }, delay)
  }

  async #ask (slot: Slot, request: WorkerRequest, timeoutMs: number): Promise<ReplyBody> {
    const worker = slot.worker
    if (worker === undefined || (slot.state !== 'initialised' && slot.state !== 'ready') || !worker.isConnected()) {
      return { ok: false, code: 'ERR_SPIFFE_SERVE_WORKER_DOWN' satisfies ServeErrorCode, message: slot.state === 'stopped' ? 'the worker stopped' : 'the worker is (re)starting' }
    }
    const id = this.#nextId++
    return await new Promise<ReplyBody>((resolve) => {
      const timer = this.#opts.clock.setTimeout(() => {
        this.#pending.delete(id)
        resolve({ ok: false, code: 'ERR_SPIFFE_SERVE_WORKER_TIMEOUT' satisfies ServeErrorCode, message: `no answer within ${timeoutMs} ms` })
      }, timeoutMs)
      this.#pending.set(id, { slot, resolve, timer })
      worker.send({ type: 'spiffe-lb:request', id, request } satisfies PrimaryMessage)
    })
  }

  #checkStopped (): void {
    if (this.#slots.every((s) => s.worker === undefined)) this.#onStopped?.()
  }
}
