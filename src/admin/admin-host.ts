/**
 * Which `Host` the admin listener answers. A page in a browser on the host can make its own
 * name resolve to 127.0.0.1 (DNS rebinding) and read the admin pages as same-origin; the browser
 * still sends that name as `Host`. An IP literal or `localhost` cannot be such a name, and a
 * configured name is one the operator chose, so only those are answered.
 */
import { isIP } from 'node:net'

/**
 * Returns true when `host` (a `Host` header: `name`, `name:port`, `[v6]` or `[v6]:port`) is an
 * IP literal, `localhost`, or one of `allowed` (lowercase names, no port).
 */
export function isAdminHost (host: string | undefined, allowed: ReadonlySet<string>): boolean {
  if (host === undefined) return false
  let name: string
  let port: string
  if (host.startsWith('[')) {
    const end = host.indexOf(']')
    if (end < 0) return false
    name = host.slice(1, end)
    port = host.slice(end + 1)
    if (isIP(name) !== 6) return false
  } else {
    const colon = host.indexOf(':')
    name = colon < 0 ? host : host.slice(0, colon)
    port = colon < 0 ? '' : host.slice(colon)
  }
  if (port !== '' && !/^:\d{1,5}$/.test(port)) return false
  const lower = name.toLowerCase()
  return isIP(lower) !== 0 || lower === 'localhost' || allowed.has(lower)
}
