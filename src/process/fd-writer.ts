/**
 * Writes text batches to a file descriptor and never fails its caller. A regular file is
 * written synchronously, as nginx writes its access log: a file write never waits for a reader,
 * and an asynchronous one costs two hand-offs through libuv's thread pool (a worker woken, the
 * loop woken back) that measured about 6 % of a pooled request's CPU (bench/README.md). A pipe
 * or a terminal is written asynchronously, one write in flight, so a slow reader never stalls
 * the event loop; what waits is bounded by {@link LOG_MAX_PENDING_BYTES}, and what does not fit
 * is dropped.
 *
 * A write that fails (a full disk, a descriptor opened read-only, a pipe whose reader is gone)
 * drops its batch, and stderr (the output itself being what fails) says so with
 * `ERR_SPIFFE_CLI_LOG_OUTPUT`, at most once a minute. The exit
 * flush is bounded too: pino's destination (sonic-boom 4) retries a failing `flushSync` write
 * forever unless the error is EAGAIN, which hung the process on exit with a broken stdout;
 * here a non-retryable error ends the flush, and EAGAIN is retried for at most
 * {@link LOG_EXIT_FLUSH_PATIENCE_MS}.
 */
import { fstatSync, write, writeSync } from 'node:fs'
import { LOG_EXIT_FLUSH_PATIENCE_MS, LOG_MAX_PENDING_BYTES, LOG_RETRY_MS, LOG_TROUBLE_WARN_INTERVAL_MS } from '../defaults.ts'
import type { CliErrorCode } from './errors.ts'

/** Text batches to one descriptor. */
export interface FdWriter {
  /** Writes `text` now (a file) or after what is in flight (a pipe, a terminal). */
  write (text: string): void
  /** Writes what waits, then `text`, synchronously (at exit). */
  flushSync (text?: string): void
}

/** Returns true when `fd` is a regular file (a closed or unknown descriptor is not). */
function isRegularFile (fd: number): boolean {
  try { return fstatSync(fd).isFile() } catch { return false }
}

const isAgain = (err: unknown): boolean => (err as { code?: unknown }).code === 'EAGAIN'
const codeOf = (err: unknown): string => String((err as { code?: unknown }).code ?? (err as Error).message)

/** Blocks the thread for `ms`: a synchronous writer waiting for a full pipe has nothing else to do. */
function pause (ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms)
}

/**
 * Writes all of `data` synchronously; returns the error code that stopped it, or undefined.
 * EAGAIN (a full non-blocking pipe) is retried for at most `patienceMs`.
 */
function writeAllSync (fd: number, data: Buffer, patienceMs: number): string | undefined {
  let offset = 0
  let waited = 0
  while (offset < data.length) {
    try {
      offset += writeSync(fd, data, offset, data.length - offset)
    } catch (err) {
      if (!isAgain(err) || waited >= patienceMs) return codeOf(err)
      pause(LOG_RETRY_MS)
      waited += LOG_RETRY_MS
    }
  }
  return undefined
}

/** Returns a reporter that tells stderr what went wrong with `fd`, at most once a minute. */
function troubleReporter (fd: number): (what: string) => void {
  let warnedAt = -Infinity
  return (what) => {
    const now = performance.now()
    if (now - warnedAt < LOG_TROUBLE_WARN_INTERVAL_MS) return
    warnedAt = now
    const line = `spiffe-lb: log output (fd ${fd}) ${what}; log records are dropped while it is (${'ERR_SPIFFE_CLI_LOG_OUTPUT' satisfies CliErrorCode})\n`
    try { process.stderr.write(line) } catch { /* stderr is gone too: nothing left to tell */ }
  }
}

/**
 * Returns a writer for `fd`: synchronous for a regular file, or for anything when `sync` (a
 * terminal's readable lines, where a line must be out before the next is formatted);
 * asynchronous otherwise.
 */
export function fdWriter (fd: number, { sync = false }: { sync?: boolean } = {}): FdWriter {
  const trouble = troubleReporter(fd)
  if (sync || isRegularFile(fd)) {
    const patience = sync ? LOG_EXIT_FLUSH_PATIENCE_MS : 0
    return {
      write (text) {
        const code = writeAllSync(fd, Buffer.from(text), patience)
        if (code !== undefined) trouble(`cannot be written: ${code}`)
      },
      flushSync (text) {
        if (text !== undefined && text !== '') this.write(text)
      }
    }
  }
  const queue: Buffer[] = []
  let queued = 0
  /** The bytes the thread pool is writing now. */
  let inFlight: Buffer | undefined
  const next = (): void => {
    inFlight = queue.shift()
    if (inFlight === undefined) return
    const data = inFlight
    write(fd, data, 0, data.length, null, (err, n) => {
      if (inFlight !== data) return // the exit flush took over
      if (err !== null) {
        if (isAgain(err)) { queue.unshift(data); setTimeout(next, LOG_RETRY_MS).unref(); return }
        trouble(`cannot be written: ${codeOf(err)}`)
        queue.length = 0
        queued = 0
        inFlight = undefined
        return
      }
      queued -= n
      if (n < data.length) queue.unshift(data.subarray(n))
      next()
    })
  }
  return {
    write (text) {
      const data = Buffer.from(text)
      if (queued + data.length > LOG_MAX_PENDING_BYTES) { trouble(`is more than ${LOG_MAX_PENDING_BYTES} bytes behind its reader`); return }
      queue.push(data)
      queued += data.length
      if (inFlight === undefined) next()
    },
    flushSync (text) {
      // The batch in flight belongs to the thread pool; what waits behind it is written here.
      const rest = queue.splice(0)
      if (text !== undefined && text !== '') rest.push(Buffer.from(text))
      queued = 0
      inFlight = undefined
      if (rest.length === 0) return
      const code = writeAllSync(fd, Buffer.concat(rest), LOG_EXIT_FLUSH_PATIENCE_MS)
      if (code !== undefined) trouble(`cannot be written: ${code}`)
    }
  }
}
