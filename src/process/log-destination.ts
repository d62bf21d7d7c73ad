/**
 * The destination of the proxy's JSON log (access log included): stdout, with the lines
 * gathered here and written 4 KiB at a time by `fd-writer.ts` (synchronously to a regular
 * file, asynchronously to a pipe or a terminal). pino's default destination writes every line
 * synchronously, one `write(2)` per request; with its `minLength` buffering sonic-boom appends
 * each line to a pending string and measures that string's byte length on every write, which
 * flattens and copies up to 16 KiB per line: on the data path that cost more CPU than the rest
 * of the access log, and tens of MiB of RSS (`bench proxy`, pooled mode, see bench/README.md).
 * Collecting lines in an array costs one push per line. Nothing is lost while the output
 * works: the lines are written every second, when the proxy drains, and synchronously on exit.
 * When it does not, the command goes on: stderr says so (`ERR_SPIFFE_CLI_LOG_OUTPUT`, at most
 * once a minute) and the records are dropped.
 */
import type { DestinationStream } from 'pino'
import { LOG_FLUSH_INTERVAL_MS, LOG_MIN_WRITE_BYTES } from '../defaults.ts'
import { fdWriter } from './fd-writer.ts'

/** A buffered log destination with the two ways to empty it. */
export interface LogDestination {
  stream: DestinationStream
  /** Writes what is buffered (asynchronously to a pipe); call when the proxy has drained. */
  flush (): void
  /** Stops the periodic flush and writes what is buffered synchronously. Idempotent. */
  close (): void
}

/**
 * Returns a buffered destination for file descriptor `fd` (default stdout), flushed every
 * second (the timer does not keep the process alive) and synchronously on process exit. A
 * failed write never throws to the caller: stderr gets an `ERR_SPIFFE_CLI_LOG_OUTPUT` line (at
 * most one a minute) and the batch is dropped.
 */
export function bufferedLogDestination (fd = 1): LogDestination {
  const writer = fdWriter(fd)
  let lines: string[] = []
  let length = 0
  let closed = false
  const handOver = (): void => {
    if (lines.length === 0) return
    const batch = lines.join('')
    lines = []
    length = 0
    writer.write(batch)
  }
  const stream: DestinationStream = {
    write (line: string): void {
      if (closed) { writer.flushSync(line); return }
      lines.push(line)
      // Characters, not bytes: never more than the bytes, so a batch is still at least
      // LOG_MIN_WRITE_BYTES long, without a scan of every line.
      length += line.length
      if (length >= LOG_MIN_WRITE_BYTES) handOver()
    }
  }
  const timer = setInterval(handOver, LOG_FLUSH_INTERVAL_MS)
  timer.unref()
  const close = (): void => {
    if (closed) return
    closed = true
    clearInterval(timer)
    process.off('exit', close)
    const rest = lines.join('')
    lines = []
    length = 0
    writer.flushSync(rest)
  }
  process.on('exit', close)
  return { stream, flush: handOver, close }
}
