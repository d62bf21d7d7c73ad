import { isIPv4, isIPv6 } from 'node:net'
import { quote, type ErrorFactory, type SpiffeLbError } from './errors.ts'

/** A host and port, as written in a config endpoint, a `listen` address or a `--listen` / `--target` flag. */
export interface HostPort {
  /** A hostname, an IPv4 address or an IPv6 address without brackets. */
  host: string
  port: number
  /** The text as written ("[::1]:9443"). */
  address: string
}

const HOSTNAME = /^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/

/**
 * Returns `"host:port"` (IPv6 as `"[::1]:port"`) parsed. `minPort` is 1 for endpoints and 0
 * for listen addresses (0 = any free port). Throws `code`, made by `raise` (the caller's folder
 * factory, so the code is type-checked against the caller's registry), naming what was expected. The one host:port parser of the project
 * (docs/architecture.md#formats-and-defaults): hostnames must be valid DNS names, IPv4 must be
 * dotted quads, IPv6 must be bracketed.
 */
export function parseHostPort<C extends string> (text: string, code: NoInfer<C>, minPort: 0 | 1, raise: ErrorFactory<C>): HostPort {
  const fail = (why: string): SpiffeLbError => raise(code,
    `address must be "host:port" (IPv6 as "[::1]:port") with port ${minPort}-65535: ${why}, got ${quote(text)}`)
  let host: string
  let portText: string
  const v6 = /^\[([^\]]*)\]:(\d{1,5})$/.exec(text)
  if (v6 !== null) {
    host = v6[1] ?? ''
    portText = v6[2] ?? ''
    if (!isIPv6(host)) throw fail(`${quote(host)} is not an IPv6 address`)
  } else {
    const m = /^([^:[\]]+):(\d{1,5})$/.exec(text)
    if (m === null) throw fail(text.split(':').length > 2 ? 'IPv6 addresses need brackets' : 'no port')
    host = m[1] ?? ''
    portText = m[2] ?? ''
    const numeric = /^[0-9.]+$/.test(host)
    if (numeric ? !isIPv4(host) : !HOSTNAME.test(host)) throw fail(`${quote(host)} is not a hostname or IPv4 address`)
  }
  const port = Number(portText)
  if (port < minPort || port > 65535) throw fail(`port ${port} is out of range`)
  return { host, port, address: text }
}

/** Returns `host` and `port` as `host:port`, IPv6 in brackets (`[::1]:8443`). */
export function formatHostPort (host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`
}
