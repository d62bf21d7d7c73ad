/**
 * The url map (config/schema.ts `urlMap`) compiled into a lookup: host rules pick a path matcher,
 * path rules pick a backend service, defaults fill the gaps. Matching follows the cloud's url
 * maps: hosts are exact, `*.example.com` (any non-empty prefix) or `*`, case-insensitive, port
 * ignored; paths are exact or `/prefix/*`, the longest literal wins and exact beats prefix.
 */
import { quote } from '../internal/errors.ts'
import type { UrlMapOptions } from './types.ts'
import { proxyError } from './errors.ts'

/** Maps a request to the name of its backend service. */
export interface Router {
  /** Returns the service for `host` (Host header, port allowed) and `path`, or undefined (404). */
  route (host: string | undefined, path: string): string | undefined
}

interface CompiledMatcher {
  defaultService: string | undefined
  exact: Map<string, string>
  /** Literal prefixes (ending in `/`), longest first. */
  prefixes: Array<[string, string]>
}

/**
 * Returns a {@link Router} for `urlMap`. Throws `ERR_SPIFFE_PROXY_*` (with the url map path in
 * `at`) when a rule names an unknown service or path matcher, or a host/path pattern is invalid
 * or repeated, so a bad map is refused before it replaces a working one.
 */
export function compileUrlMap (urlMap: UrlMapOptions, services: ReadonlySet<string>): Router {
  const checkService = (name: string | undefined, at: string): string | undefined => {
    if (name !== undefined && !services.has(name)) {
      throw proxyError('ERR_SPIFFE_PROXY_UNKNOWN_SERVICE',
        `url map names backend service ${quote(name)}, which is not defined`, { at })
    }
    return name
  }
  const defaultService = checkService(urlMap.defaultService, 'urlMap.defaultService')

  const matchers = new Map<string, CompiledMatcher>()
  for (const [i, pm] of (urlMap.pathMatchers ?? []).entries()) {
    const at = `urlMap.pathMatchers[${i}]`
    if (matchers.has(pm.name)) {
      throw proxyError('ERR_SPIFFE_PROXY_DUPLICATE_PATH_MATCHER',
        `path matcher names must be unique; ${quote(pm.name)} is repeated`, { at: `${at}.name` })
    }
    const m: CompiledMatcher = {
      defaultService: checkService(pm.defaultService, `${at}.defaultService`),
      exact: new Map(),
      prefixes: []
    }
    const seen = new Set<string>()
    for (const [j, rule] of (pm.pathRules ?? []).entries()) {
      const service = checkService(rule.service, `${at}.pathRules[${j}].service`) ?? rule.service
      for (const [k, path] of rule.paths.entries()) {
        const pat = `${at}.pathRules[${j}].paths[${k}]`
        if (!path.startsWith('/') || path.slice(0, -1).includes('*') || path.includes('?') || path.includes('#') ||
          (path.endsWith('*') && !path.endsWith('/*'))) {
          throw proxyError('ERR_SPIFFE_PROXY_BAD_PATH_PATTERN',
            `path rules must start with "/" and may only end in "/*"; got ${quote(path)}`, { at: pat })
        }
        if (seen.has(path)) {
          throw proxyError('ERR_SPIFFE_PROXY_DUPLICATE_PATH',
            `a path may appear once per path matcher; ${quote(path)} is repeated`, { at: pat })
        }
        seen.add(path)
        if (path.endsWith('/*')) m.prefixes.push([path.slice(0, -1), service])
        else m.exact.set(path, service)
      }
    }
    m.prefixes.sort((a, b) => b[0].length - a[0].length)
    matchers.set(pm.name, m)
  }

  const exactHosts = new Map<string, CompiledMatcher>()
  const wildcardHosts: Array<[string, CompiledMatcher]> = []
  let anyHost: CompiledMatcher | undefined
  const hostSeen = new Set<string>()
  for (const [i, hr] of (urlMap.hostRules ?? []).entries()) {
    const matcher = matchers.get(hr.pathMatcher)
    if (matcher === undefined) {
      throw proxyError('ERR_SPIFFE_PROXY_UNKNOWN_PATH_MATCHER',
        `host rule names path matcher ${quote(hr.pathMatcher)}, which is not defined`,
        { at: `urlMap.hostRules[${i}].pathMatcher` })
    }
    for (const [j, raw] of hr.hosts.entries()) {
      const at = `urlMap.hostRules[${i}].hosts[${j}]`
      const host = raw.toLowerCase()
      if (host === '' || host.slice(1).includes('*') || host.includes(':') || host.includes('/')) {
        throw proxyError('ERR_SPIFFE_PROXY_BAD_HOST_PATTERN',
          `hosts are names without port, "*" allowed only as the first character; got ${quote(raw)}`, { at })
      }
      if (hostSeen.has(host)) {
        throw proxyError('ERR_SPIFFE_PROXY_DUPLICATE_HOST',
          `a host may appear in one host rule only; ${quote(raw)} is repeated`, { at })
      }
      hostSeen.add(host)
      if (host === '*') anyHost = matcher
      else if (host.startsWith('*')) wildcardHosts.push([host.slice(1), matcher])
      else exactHosts.set(host, matcher)
    }
  }
  wildcardHosts.sort((a, b) => b[0].length - a[0].length)

  const matcherFor = (host: string): CompiledMatcher | undefined => {
    const exact = exactHosts.get(host)
    if (exact !== undefined) return exact
    for (const [suffix, m] of wildcardHosts) {
      if (host.length > suffix.length && host.endsWith(suffix)) return m
    }
    return anyHost
  }

  return {
    route (rawHost, rawPath) {
      const m = matcherFor(normalizeHost(rawHost))
      if (m === undefined) return defaultService
      const path = stripQuery(rawPath)
      const exact = m.exact.get(path)
      if (exact !== undefined) return exact
      for (const [prefix, service] of m.prefixes) {
        if (path.startsWith(prefix)) return service
      }
      return m.defaultService
    }
  }
}

/** Returns the Host header lowercased, without port or trailing dot (`[::1]:80` → `[::1]`). */
export function normalizeHost (host: string | undefined): string {
  if (host === undefined) return ''
  let h = host.trim().toLowerCase()
  if (h.startsWith('[')) {
    const end = h.indexOf(']')
    h = end === -1 ? h : h.slice(0, end + 1)
  } else {
    const colon = h.indexOf(':')
    if (colon !== -1) h = h.slice(0, colon)
  }
  return h.endsWith('.') ? h.slice(0, -1) : h
}

function stripQuery (path: string): string {
  const q = path.search(/[?#]/)
  return q === -1 ? path : path.slice(0, q)
}
