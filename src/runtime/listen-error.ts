import { quote, type SpiffeLbError } from '../internal/errors.ts'
import { serveError } from './errors.ts'
import { formatHostPort } from '../internal/host-port.ts'

/**
 * Codes for a listener that cannot be opened (proxy, admin, backend, metadata server, demo), by
 * the system error; meaning, cause and action are in src/process/errors.ts (docs/errors.md).
 */
export const LISTEN_ERRORS = {
  EADDRINUSE: { code: 'ERR_SPIFFE_SERVE_ADDRESS_IN_USE', rule: 'is already in use by another process', hint: 'stop it or choose another port' },
  EACCES: { code: 'ERR_SPIFFE_SERVE_LISTEN_DENIED', rule: 'may not be listened on by this user', hint: 'use a port of 1024 or above' },
  EADDRNOTAVAIL: { code: 'ERR_SPIFFE_SERVE_ADDRESS_UNAVAILABLE', rule: 'is not an address of this machine', hint: 'listen on one of its addresses' }
} as const

/**
 * Returns the coded one-line error for a listener that failed with a Node system error
 * (`EADDRINUSE`, `EACCES`, `EADDRNOTAVAIL` from `listen`/`bind`, also as a cluster worker
 * relays it), or undefined for any other error.
 */
export function listenError (err: unknown): SpiffeLbError | undefined {
  if (!(err instanceof Error)) return undefined
  const e = err as Error & { code?: unknown, syscall?: unknown, address?: unknown, port?: unknown }
  if (typeof e.code !== 'string' || !(e.code in LISTEN_ERRORS)) return undefined
  const known = LISTEN_ERRORS[e.code as keyof typeof LISTEN_ERRORS]
  // A worker's relayed error keeps only the message: `bind EADDRINUSE 127.0.0.1:8080`.
  const address = typeof e.address === 'string' && typeof e.port === 'number'
    ? formatHostPort(e.address, e.port)
    : /(?:listen|bind) E[A-Z]+ (\S+)/.exec(e.message)?.[1]
  if (address === undefined && e.syscall !== 'listen' && e.syscall !== 'bind' && !/\b(?:listen|bind)\b/.test(e.message)) return undefined
  const where = address === undefined ? 'the listen address' : `address ${quote(address)}`
  return serveError(known.code, `${where} ${known.rule} (${e.code}): ${known.hint}`, { cause: err, ...(address === undefined ? {} : { at: address }) })
}
