/**
 * A cleartext TCP connector for `protocol: HTTP` backends and for tests of the proxy logic
 * without TLS. Production traffic uses the SPIFFE mTLS connector from src/tls instead.
 */
import { connect as netConnect, type Socket } from 'node:net'
import { transportError } from './transport/transport-errors.ts'
import type { ConnectFn } from './types.ts'
import { HANDSHAKE_TIMEOUT_MS } from '../defaults.ts'
import { formatHostPort } from '../internal/host-port.ts'

/** Returns an undici connector that opens plain TCP sockets whatever the origin's scheme. */
export function plainConnector (options: { timeoutMs?: number } = {}): ConnectFn {
  const timeoutMs = options.timeoutMs ?? HANDSHAKE_TIMEOUT_MS
  return (opts, callback) => {
    const port = opts.port !== '' ? Number(opts.port) : opts.protocol === 'https:' ? 443 : 80
    const socket: Socket = netConnect({ host: opts.hostname, port, noDelay: true })
    const fail = (err: Error): void => {
      cleanup()
      socket.destroy()
      callback(err, null)
    }
    const onTimeout = (): void => {
      // undici's code: the proxy classifies a connect timeout the same on every connector.
      fail(transportError('connectTimeout', `connect to ${formatHostPort(opts.hostname, port)} timed out after ${timeoutMs} ms`))
    }
    const onConnect = (): void => {
      cleanup()
      callback(null, socket)
    }
    const cleanup = (): void => {
      socket.setTimeout(0)
      socket.off('error', fail)
      socket.off('timeout', onTimeout)
      socket.off('connect', onConnect)
    }
    socket.setTimeout(timeoutMs)
    socket.once('timeout', onTimeout)
    socket.once('error', fail)
    socket.once('connect', onConnect)
  }
}
