/**
 * The readiness message a spiffe-lb process sends its parent when it was started with an IPC
 * channel (`child_process.fork` or `spawn` with `'ipc'` in stdio): what it listens on, as
 * structured data, so a supervisor (the benchmarks, a test) never parses human output. This
 * module owns the format: the writer ({@link announceReady}) and the reader ({@link isReadyMessage}).
 */
export interface ReadyMessage {
  type: 'spiffe-lb:ready'
  /** The command that became ready. */
  command: 'serve' | 'backend'
  /** `HOST:PORT` of the listener that serves traffic (the proxy's frontend, the backend). */
  address: string
  /** `HOST:PORT` of the admin listener, for `serve`. */
  admin?: string
}

/**
 * Sends `message` to the parent process when there is an IPC channel, then unrefs the channel
 * so it never keeps the process alive. Returns whether it was sent.
 */
export function announceReady (message: Omit<ReadyMessage, 'type'>): boolean {
  if (typeof process.send !== 'function') return false
  process.send({ type: 'spiffe-lb:ready', ...message })
  process.channel?.unref()
  return true
}

/** Returns whether `value` (a message received over IPC) is a well-formed {@link ReadyMessage}. */
export function isReadyMessage (value: unknown): value is ReadyMessage {
  if (typeof value !== 'object' || value === null) return false
  const m = value as Record<string, unknown>
  return m.type === 'spiffe-lb:ready' &&
    (m.command === 'serve' || m.command === 'backend') &&
    typeof m.address === 'string' && /^\S+:\d+$/.test(m.address) &&
    (m.admin === undefined || (typeof m.admin === 'string' && /^\S+:\d+$/.test(m.admin)))
}
