/**
 * Header rewriting at the proxy boundary: hop-by-hop headers (RFC 9110 §7.6.1) belong to one
 * connection and are dropped in both directions, together with every header the `Connection`
 * header names; the `X-Forwarded-*` set tells the backend who really called.
 */
/**
 * Headers that never cross the proxy, lowercase. `Proxy-*` is matched by prefix. `TE: trailers`
 * alone is passed on (see {@link upstreamRequestHeaders}); WebSocket upgrades rebuild their own.
 */
export const HOP_BY_HOP: ReadonlySet<string> = new Set([
  'connection', 'keep-alive', 'te', 'trailer', 'transfer-encoding', 'upgrade',
  // Node answers `Expect: 100-continue` itself, and undici refuses to forward it.
  'expect'
])

/** Returns true when `name` (lowercase) is hop-by-hop or listed in `connectionTokens`. */
export function isHopByHop (name: string, connectionTokens: ReadonlySet<string>): boolean {
  return HOP_BY_HOP.has(name) || name.startsWith('proxy-') || connectionTokens.has(name)
}

/** No tokens, shared: most messages have no `Connection` header, or only `keep-alive`. */
const NO_TOKENS: ReadonlySet<string> = new Set()

/**
 * Returns the lowercase header names the `Connection` header values list (one value, a list, or
 * none). Without a value, or with only `keep-alive` (which names a field that is hop-by-hop
 * anyway), the answer is a shared empty set: nothing is built per message.
 */
export function connectionTokens (values: string | ReadonlyArray<string | undefined> | undefined): ReadonlySet<string> {
  if (values === undefined || values === 'keep-alive') return NO_TOKENS
  if (typeof values === 'string') values = [values]
  if (values.every((v) => v === undefined || v === 'keep-alive')) return NO_TOKENS
  const out = new Set<string>()
  for (const v of values) {
    if (v === undefined) continue
    for (const token of v.split(',')) {
      const t = token.trim().toLowerCase()
      if (t !== '') out.add(t)
    }
  }
  return out
}

/** Returns the tokens the `Connection` fields of a flat `[name, value, …]` list name; see {@link connectionTokens}. */
function listedConnectionTokens (raw: readonly string[]): ReadonlySet<string> {
  let connection: string[] | undefined
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i] ?? ''
    if (name.length === 10 && name.toLowerCase() === 'connection') (connection ??= []).push(raw[i + 1] ?? '')
  }
  return connectionTokens(connection)
}

/** Who called the proxy, for the `X-Forwarded-*` headers. */
export interface ForwardedFor {
  /** Client IP address as the socket reports it. */
  clientAddress: string | undefined
  /** `http` or `https`: the frontend's scheme. */
  proto: 'http' | 'https'
}

/** Set by the proxy only: a client's values are dropped. */
const FORWARDED = new Set(['x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host', 'x-real-ip', 'forwarded'])

/**
 * Returns the request headers to send upstream as a flat `[name, value, …]` list (the order and
 * spelling of `raw`, Node's `rawHeaders`), without hop-by-hop headers. Who called is told the
 * way a chain of proxies tells it, and a client can only add to it, never pose as the proxy:
 * - `X-Forwarded-For` and `Forwarded` (RFC 7239): the client's values are kept and the proxy
 *   appends its own hop (`for=` the client address, `proto=`, `host=`);
 * - `X-Forwarded-Proto`, `X-Forwarded-Host` and `X-Real-IP` are single values the backend
 *   takes at face value: the client's are dropped and the proxy sets them.
 */
export function upstreamRequestHeaders (raw: readonly string[], from: ForwardedFor): string[] {
  const drop = listedConnectionTokens(raw)
  const out: string[] = []
  const xff: string[] = []
  const forwarded: string[] = []
  let host: string | undefined
  let authority: string | undefined
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i] ?? ''
    const value = raw[i + 1] ?? ''
    const lower = name.toLowerCase()
    // HTTP/2 pseudo-headers belong to the client's stream; `:authority` stands for Host.
    if (lower.startsWith(':')) { if (lower === ':authority') authority ??= value; continue }
    // `TE: trailers` is end to end in effect: gRPC servers may require it (RFC 9113 §8.2.2).
    if (lower === 'te' && value.trim().toLowerCase() === 'trailers') { out.push(name, value); continue }
    if (lower === 'host') host ??= value
    if (lower === 'x-forwarded-for') { xff.push(value); continue }
    if (lower === 'forwarded') { forwarded.push(value); continue }
    if (FORWARDED.has(lower) || isHopByHop(lower, drop)) continue
    out.push(name, value)
  }
  if (host === undefined && authority !== undefined) { host = authority; out.push('host', authority) }
  const client = clientIp(from.clientAddress)
  if (client !== undefined) xff.push(client)
  if (xff.length > 0) out.push('x-forwarded-for', xff.join(', '))
  out.push('x-forwarded-proto', from.proto)
  if (host !== undefined) out.push('x-forwarded-host', host)
  if (client !== undefined) out.push('x-real-ip', client)
  forwarded.push(forwardedElement(client, from.proto, host))
  out.push('forwarded', forwarded.join(', '))
  return out
}

/** Returns this hop's RFC 7239 `Forwarded` element: `for="[::1]";proto=http;host="h"`. */
function forwardedElement (client: string | undefined, proto: string, host: string | undefined): string {
  const node = client === undefined ? 'unknown' : client.includes(':') ? `"[${client}]"` : client
  return host === undefined ? `for=${node};proto=${proto}` : `for=${node};proto=${proto};host=${JSON.stringify(host)}`
}

/**
 * Returns the backend's response fields minus hop-by-hop ones, as a flat `[name, value, …]`
 * list in the order and spelling received (`raw`, as llhttp delivers it).
 */
export function downstreamRawHeaders (raw: readonly string[]): string[] {
  const drop = listedConnectionTokens(raw)
  const out: string[] = []
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i] ?? ''
    if (isHopByHop(name.toLowerCase(), drop)) continue
    out.push(name, raw[i + 1] ?? '')
  }
  return out
}

/** Returns the first value of field `name` (lowercase) in a flat `[name, value, …]` list, or undefined. */
export function fieldValue (raw: readonly string[], name: string): string | undefined {
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const n = raw[i] ?? ''
    if (n.length === name.length && n.toLowerCase() === name) return raw[i + 1]
  }
  return undefined
}

/** Returns an undici-style header object (a list value per repeated field) as a flat `[name, value, …]` list. */
export function fieldList (headers: Readonly<Record<string, string | readonly string[] | undefined>>): string[] {
  const out: string[] = []
  for (const name of Object.keys(headers)) {
    const value = headers[name]
    if (value === undefined) continue
    if (typeof value === 'string') out.push(name, value)
    else for (const v of value) out.push(name, v)
  }
  return out
}

/** Returns true when `headers` has at least one field, without listing them (trailers are usually none). */
export function hasFields (headers: object): boolean {
  for (const name in headers) if (Object.hasOwn(headers, name)) return true
  return false
}

/** Returns the IP without the IPv4-mapped IPv6 prefix (`::ffff:10.0.0.1` → `10.0.0.1`). */
export function clientIp (address: string | undefined): string | undefined {
  if (address === undefined) return undefined
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address
}
