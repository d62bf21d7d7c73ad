import type { Socket } from 'node:net'
import type { Dispatcher } from 'undici'

/** What a {@link RequestController} acts on: the connection's socket, and ending the request in doubt. */
export interface ControlledConnection {
  readonly socket: Socket
  fail: (err: Error) => void
}

/**
 * Pause, resume and abort of the running request, as the handler protocol expects them. Once
 * the request has ended they do nothing: the connection may carry another request by then
 * (a late 'drain' resuming it, or an abort, would act on that one).
 */
export class RequestController implements Dispatcher.DispatchController {
  aborted = false
  paused = false
  reason: Error | null = null
  ended = false
  readonly conn: ControlledConnection
  constructor (conn: ControlledConnection) { this.conn = conn }
  abort (reason: Error): void {
    if (this.aborted || this.ended) return
    this.aborted = true
    this.reason = reason
    this.conn.fail(reason)
  }

  pause (): void { if (!this.ended) { this.paused = true; this.conn.socket.pause() } }
  resume (): void { if (!this.ended) { this.paused = false; this.conn.socket.resume() } }
}
