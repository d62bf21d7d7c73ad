/**
 * The destination of the proxy's JSON log (access log included): stdout through an
 * asynchronous, buffered pino destination. pino's default writes every line synchronously, one
 * `write(2)` per request; buffering lines into 4 KiB writes took that cost off the request path
 * (`bench proxy`, pooled mode). Nothing is lost: the buffer is flushed every second, when the
 * proxy drains, and synchronously on exit.
 */
import { pino } from 'pino'
import type { DestinationStream } from 'pino'
import { LOG_FLUSH_INTERVAL_MS, LOG_MIN_WRITE_BYTES } from '../defaults.ts'

/** A buffered log destination with the two ways to empty it. */
export interface LogDestination {
  stream: DestinationStream
  /** Writes what is buffered (asynchronously); call when the proxy has drained. */
  flush (): void
  /** Stops the periodic flush and writes what is buffered synchronously. Idempotent. */
  close (): void
}

/**
 * Returns a buffered destination for file descriptor `fd` (default stdout), flushed every
 * second (the timer does not keep the process alive) and synchronously on process exit.
 */
export function bufferedLogDestination (fd = 1): LogDestination {
  const stream = pino.destination({ dest: fd, sync: false, minLength: LOG_MIN_WRITE_BYTES })
  let closed = false
  const flush = (): void => {
    // flush() before the destination opened (or after it ended) throws: nothing to write then.
    try { stream.flush() } catch { /* not ready or already closed */ }
  }
  const timer = setInterval(flush, LOG_FLUSH_INTERVAL_MS)
  timer.unref()
  const close = (): void => {
    if (closed) return
    closed = true
    clearInterval(timer)
    process.off('exit', close)
    try { stream.flushSync() } catch { /* fd closed by the reader: nothing left to write to */ }
  }
  process.on('exit', close)
  return { stream, flush, close }
}
