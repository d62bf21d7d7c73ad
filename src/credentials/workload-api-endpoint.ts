import { isAbsolute } from 'node:path'
import { isIP } from 'node:net'
import { quote } from '../internal/errors.ts'
import { credentialsError } from './errors.ts'
import { formatHostPort } from '../internal/host-port.ts'

/** The environment variable that names the Workload API endpoint (SPIFFE Workload Endpoint §4). */
export const SPIFFE_ENDPOINT_SOCKET = 'SPIFFE_ENDPOINT_SOCKET'

/** A parsed Workload API endpoint address. */
export type WorkloadApiEndpoint =
  | { kind: 'unix', path: string, /** the address as written */ address: string, /** what `@grpc/grpc-js` dials or binds */ target: string }
  | { kind: 'tcp', host: string, port: number, address: string, target: string }

/**
 * Returns the endpoint of `address`: `unix:///absolute/path` or `tcp://IP:port` with an IP
 * literal (SPIFFE Workload Endpoint §4: "unix" paths are absolute, "tcp" hosts are IP
 * addresses, neither carries a query, fragment or userinfo). The `target` is the form
 * `@grpc/grpc-js` understands (`unix:///path`, `ipv4:IP:port`, `ipv6:[IP]:port`): it has no
 * `tcp://` scheme. `unix://relative` is refused: `relative` would be a host, not a path.
 * Throws `ERR_SPIFFE_CREDENTIALS_WORKLOAD_API_ENDPOINT` naming `where`.
 * https://github.com/spiffe/spiffe/blob/main/standards/SPIFFE_Workload_Endpoint.md#4-locating-the-endpoint
 */
export function parseWorkloadApiEndpoint (address: string, where: string): WorkloadApiEndpoint {
  const bad = (rule: string): never => {
    throw credentialsError('ERR_SPIFFE_CREDENTIALS_WORKLOAD_API_ENDPOINT',
      `workload api endpoint ${quote(address)} ${rule}`, { at: where })
  }
  let url: URL
  try {
    url = new URL(address)
  } catch {
    return bad('is not a url (expected "unix:///absolute/path" or "tcp://IP:port")')
  }
  if (url.username !== '' || url.password !== '') bad('must not carry userinfo')
  if (url.search !== '' || url.hash !== '' || address.includes('?') || address.includes('#')) bad('must not carry a query or fragment')
  if (url.protocol === 'unix:') {
    if (url.host !== '') bad(`has host ${quote(url.host)}: a unix path must be absolute, written "unix:///path"`)
    const path = decodeURIComponent(url.pathname)
    if (!address.startsWith('unix:///') || !isAbsolute(path) || path === '/') bad('must name an absolute socket path ("unix:///path")')
    return { kind: 'unix', path, address, target: `unix://${path}` }
  }
  if (url.protocol === 'tcp:') {
    if (url.pathname !== '' && url.pathname !== '/') bad('must not have a path')
    const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname
    const family = isIP(host)
    if (family === 0) bad(`has host ${quote(url.hostname)}, which is not an ip address`)
    if (url.port === '') bad('has no port')
    const port = Number(url.port)
    if (port === 0) bad('has port 0')
    return { kind: 'tcp', host, port, address, target: `${family === 4 ? 'ipv4' : 'ipv6'}:${formatHostPort(host, port)}` }
  }
  return bad(`has scheme ${quote(url.protocol.slice(0, -1))}; only "unix" and "tcp" are allowed`)
}

/**
 * Returns the endpoint to use: `configured` when given, else `$SPIFFE_ENDPOINT_SOCKET` from
 * `env`. Throws `ERR_SPIFFE_CREDENTIALS_WORKLOAD_API_NO_ENDPOINT` when neither is set, or the
 * parse error of {@link parseWorkloadApiEndpoint}.
 */
export function resolveWorkloadApiEndpoint (configured: string | undefined, where: string,
  env: Readonly<Record<string, string | undefined>> = process.env): WorkloadApiEndpoint {
  if (configured !== undefined && configured !== '') return parseWorkloadApiEndpoint(configured, where)
  const fromEnv = env[SPIFFE_ENDPOINT_SOCKET]
  if (fromEnv === undefined || fromEnv === '') {
    throw credentialsError('ERR_SPIFFE_CREDENTIALS_WORKLOAD_API_NO_ENDPOINT',
      `no workload api endpoint: set ${where} or ${SPIFFE_ENDPOINT_SOCKET}`, { at: where })
  }
  return parseWorkloadApiEndpoint(fromEnv, SPIFFE_ENDPOINT_SOCKET)
}
