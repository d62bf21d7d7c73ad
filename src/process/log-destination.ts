/**
 * The destination of the proxy's JSON log (access log included): stdout through an
 * asynchronous pino destination (sonic-boom), with the lines gathered here first and handed
 * over 4 KiB at a time. pino's default writes every line synchronously, one `write(2)` per
 * request. sonic-boom's own `minLength` buffering appends each line to its pending string and
 * measures that string's byte length on every write, which flattens and copies up to 16 KiB
 * per line: on the data path that cost more CPU than the rest of the access log, and tens of
 * MiB of RSS (`bench proxy`, pooled mode, see bench/README.md). Collecting lines in an array
 * costs one push per line; sonic-boom keeps what it does well (partial writes, EAGAIN, the
 * synchronous flush). Its `minLength` stays set, to the same 4 KiB: a batch handed over is
 * at least that long and is written at once, and what is left at exit is shorter, so it
 * waits in sonic-boom for `flushSync` rather than in a write `flushSync` would not wait for.
 * Nothing is lost: the buffer is flushed every second, when the proxy
 * drains, and synchronously on exit.
 *
 * A batch for a regular file is written synchronously, as nginx writes its access log: a
 * file write never waits for a reader, and an asynchronous one costs two hand-offs through
 * libuv's thread pool (a worker woken, the loop woken back) that measured about 6 % of a
 * pooled request's CPU (bench/README.md). A pipe or a terminal keeps the asynchronous
 * writes: a slow reader must not stall the event loop.
 */
import { fstatSync } from 'node:fs'
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

/** Returns true when `fd` is a regular file (a closed or unknown descriptor is not). */
function isRegularFile (fd: number): boolean {
  try { return fstatSync(fd).isFile() } catch { return false }
}

/**
 * Returns a buffered destination for file descriptor `fd` (default stdout), flushed every
 * second (the timer does not keep the process alive) and synchronously on process exit.
 */
export function bufferedLogDestination (fd = 1): LogDestination {
  const sink = pino.destination({ dest: fd, sync: isRegularFile(fd), minLength: LOG_MIN_WRITE_BYTES })
  let lines: string[] = []
  let length = 0
  let closed = false
  const syncFlush = (): void => {
    try { sink.flushSync() } catch { /* fd closed by the reader: nothing left to write to */ }
  }
  const handOver = (): void => {
    if (lines.length === 0) return
    const batch = lines.join('')
    lines = []
    length = 0
    sink.write(batch)
  }
  const stream: DestinationStream = {
    write (line: string): void {
      if (closed) { sink.write(line); syncFlush(); return }
      lines.push(line)
      // Characters, not bytes: never more than the bytes, so a batch is still at least
      // LOG_MIN_WRITE_BYTES long, without a scan of every line.
      length += line.length
      if (length >= LOG_MIN_WRITE_BYTES) handOver()
    }
  }
  const flush = (): void => {
    handOver()
    // flush() before the destination opened (or after it ended) throws: nothing to write then.
    try { sink.flush() } catch { /* not ready or already closed */ }
  }
  const timer = setInterval(flush, LOG_FLUSH_INTERVAL_MS)
  timer.unref()
  const close = (): void => {
    if (closed) return
    closed = true
    clearInterval(timer)
    process.off('exit', close)
    handOver()
    syncFlush()
  }
  process.on('exit', close)
  return { stream, flush, close }
}
