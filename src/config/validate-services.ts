import { quote } from '../internal/errors.ts'
import { SpiffeIdPattern } from '../spiffe/id-pattern.ts'
import { configError, type ConfigErrorCode } from './errors.ts'
import { backendServiceResource, checkAttestation } from './attestation.ts'
import { isPoolTrustDomain, parseIdentity, parseManagedIdentity } from './identity.ts'
import type { CredentialSourceKind } from '../enums.ts'
import { IssueList, type ConfigPath } from './issues.ts'
import { checkCleartext, parseCustomHeaders } from './validate-inbound.ts'
import type { RawBackendService, RawConfig } from './schema.ts'
import type { BackendServiceConfig, ResolvedIdentity, UrlMapConfig, WorkloadIdentityPoolConfig } from './types.ts'
import { parseHostPort, type HostPort } from '../internal/host-port.ts'
import { RESOURCE_NAME } from './values.ts'

/** What backend service validation needs from the rest of the config. */
export interface ServiceContext {
  project: { id: string, number: string }
  /** False when the project number itself is broken: identity references are not checked. */
  projectNumberOk: boolean
  pools: readonly WorkloadIdentityPoolConfig[]
  /** Where the proxy's SVID comes from: a SPIFFE-ID identity needs a source that delivers it. */
  source: CredentialSourceKind
  /**
   * `pool`, `pool/ns` and `pool/ns/id` keys of everything written in the file, invalid entries
   * included: a reference to an entry already reported as broken is not reported again.
   */
  written: ReadonlySet<string>
  list: IssueList
  /** True when the frontend terminates mTLS (`serverTlsPolicy`): cleartext to loopback is allowed. */
  inbound?: boolean
}

/** Returns the parsed `allowedPeers` patterns; records each invalid one under its path. */
function allowedPeersAt (raw: readonly string[], at: ConfigPath, list: IssueList): SpiffeIdPattern[] {
  return raw.flatMap((text, i) => {
    try {
      return [SpiffeIdPattern.parse(text)]
    } catch (err) {
      list.addError([...at, i], 'ERR_SPIFFE_CONFIG_ALLOWED_PEER', 'not a spiffe id pattern', err)
      return []
    }
  })
}

/** Fields the seeds say cannot be set together with `tlsSettings.identity`. */
const EXCLUSIVE = ['sni', 'subjectAltNames', 'authenticationConfig'] as const

/** Returns the backend services resolved; records every rule broken. */
export function resolveServices (raw: readonly RawBackendService[], ctx: ServiceContext): BackendServiceConfig[] {
  const { list } = ctx
  const out: BackendServiceConfig[] = []
  raw.forEach((svc, i) => {
    const at = ['backendServices', i]
    if (!RESOURCE_NAME.test(svc.name)) {
      list.add([...at, 'name'], 'ERR_SPIFFE_CONFIG_BACKEND_SERVICE_NAME',
        `backend service name must be 1 to 63 characters of lowercase letters, digits and hyphens, starting with a letter and not ending with a hyphen, got ${quote(svc.name)}`)
    } else if (out.some((s) => s.name === svc.name)) {
      list.add([...at, 'name'], 'ERR_SPIFFE_CONFIG_DUPLICATE_BACKEND_SERVICE', `backend service name ${quote(svc.name)} is used twice`)
    }
    const resource = backendServiceResource(ctx.project.number, svc.name)
    const tls = svc.tlsSettings ?? {}
    const identity = tls.identity === undefined ? undefined : resolveServiceIdentity(tls.identity, resource, [...at, 'tlsSettings', 'identity'], ctx)
    if (tls.identity !== undefined) {
      for (const key of EXCLUSIVE) {
        if (tls[key] !== undefined) {
          list.add([...at, 'tlsSettings', key], 'ERR_SPIFFE_CONFIG_IDENTITY_EXCLUSIVE',
            `tlsSettings.${key} cannot be set together with tlsSettings.identity (managed identity creates it)`)
        }
      }
    }
    const od = svc.outlierDetection
    const hc = svc.healthCheck
    if (hc !== undefined) {
      if (!hc.requestPath.startsWith('/')) {
        list.add([...at, 'healthCheck', 'requestPath'], 'ERR_SPIFFE_CONFIG_HEALTH_CHECK_PATH', `request path must start with "/", got ${quote(hc.requestPath)}`)
      }
      if (hc.timeoutSec > hc.checkIntervalSec) {
        list.add([...at, 'healthCheck', 'timeoutSec'], 'ERR_SPIFFE_CONFIG_HEALTH_CHECK_TIMEOUT',
          `health check timeoutSec must not exceed checkIntervalSec (${hc.checkIntervalSec}), got ${quote(hc.timeoutSec)}`)
      }
    }
    const backends = svc.backends.map((b, j) => ({
      endpoints: b.endpoints.flatMap((e, k) => hostPortAt(e, [...at, 'backends', j, 'endpoints', k], 'ERR_SPIFFE_CONFIG_ENDPOINT', 1, list) ?? [])
    }))
    if (svc.protocol === 'HTTP') {
      const located = svc.backends.flatMap((b, j) => b.endpoints.flatMap((e, k) => {
        const where = [...at, 'backends', j, 'endpoints', k]
        const endpoint = hostPortAt(e, where, 'ERR_SPIFFE_CONFIG_ENDPOINT', 1, new IssueList())
        return endpoint === undefined ? [] : [{ endpoint, at: where }]
      }))
      checkCleartext(located, at, ctx.inbound === true, list)
    }
    out.push({
      name: svc.name,
      resource,
      protocol: svc.protocol,
      customRequestHeaders: parseCustomHeaders(svc.customRequestHeaders, [...at, 'customRequestHeaders'], list),
      localityLbPolicy: svc.localityLbPolicy,
      timeoutMs: svc.timeoutSec * 1000,
      tlsSettings: {
        identity,
        sni: tls.sni,
        subjectAltNames: tls.subjectAltNames ?? [],
        authenticationConfig: tls.authenticationConfig
      },
      backends,
      healthCheck: hc === undefined
        ? undefined
        : { requestPath: hc.requestPath, checkIntervalMs: hc.checkIntervalSec * 1000, timeoutMs: hc.timeoutSec * 1000, healthyThreshold: hc.healthyThreshold, unhealthyThreshold: hc.unhealthyThreshold },
      authorization: svc.authorization === undefined ? undefined : { allowedPeers: allowedPeersAt(svc.authorization.allowedPeers, [...at, 'authorization', 'allowedPeers'], list) },
      connectionPool: { ...svc.connectionPool },
      circuitBreakers: svc.circuitBreakers === undefined ? undefined : defined({
        maxConnections: svc.circuitBreakers.maxConnections,
        maxPendingRequests: svc.circuitBreakers.maxPendingRequests,
        maxRequests: svc.circuitBreakers.maxRequests,
        maxRetries: svc.circuitBreakers.maxRetries
      }),
      outlierDetection: od === undefined ? undefined : defined({
        consecutiveErrors: od.consecutiveErrors,
        consecutiveGatewayFailure: od.consecutiveGatewayFailure,
        enforcingConsecutiveErrors: od.enforcingConsecutiveErrors,
        enforcingConsecutiveGatewayFailure: od.enforcingConsecutiveGatewayFailure,
        baseEjectionTimeMs: od.baseEjectionTime === undefined ? undefined : od.baseEjectionTime.seconds * 1000 + Math.floor((od.baseEjectionTime.nanos ?? 0) / 1e6),
        maxEjectionPercent: od.maxEjectionPercent
      })
    })
  })
  return out
}

/** Returns `text` as host and port, or undefined after recording `code` at `path`. */
export function hostPortAt (text: string, path: ConfigPath, code: ConfigErrorCode, minPort: 0 | 1, list: IssueList): HostPort | undefined {
  try {
    return parseHostPort(text, code, minPort, configError)
  } catch (err) {
    list.addError(path, code, 'invalid address', err)
    return undefined
  }
}

/**
 * Returns the parsed identity of a backend service after checking that it names an existing
 * pool, namespace and managed identity of this project, and that the managed identity is
 * attested for this backend service (seeds: attestation policy).
 */
function resolveServiceIdentity (text: string, resource: string, at: ConfigPath, ctx: ServiceContext): ResolvedIdentity | undefined {
  const { list, project } = ctx
  let parsed: ResolvedIdentity
  try {
    parsed = parseIdentity(text)
  } catch (err) {
    list.addError(at, 'ERR_SPIFFE_CONFIG_IDENTITY_FORMAT', 'identity is not a spiffe id or a managed identity', err)
    return undefined
  }
  if (parsed.form === 'spiffe') {
    // A SPIFFE ID in a declared pool's domain is that pool's managed identity: all its checks apply.
    const td = parsed.spiffeId.trustDomain
    if (!(isPoolTrustDomain(td) && ctx.pools.some((p) => p.trustDomain.equals(td)))) {
      if (ctx.source === 'issuer') {
        list.add(at, 'ERR_SPIFFE_CONFIG_IDENTITY_SOURCE',
          `identity ${quote(text)} is outside every workload identity pool, so the local issuer cannot issue it: use credentials.source directory, metadata or workload-api, which deliver the svid`)
      }
      return parsed
    }
    try {
      parsed = parseManagedIdentity(text.slice('spiffe:'.length))
    } catch (err) {
      list.addError(at, 'ERR_SPIFFE_CONFIG_IDENTITY_FORMAT', 'identity is in a pool\'s trust domain but not a managed identity', err)
      return undefined
    }
  }
  const identity = parsed
  if (!ctx.projectNumberOk) return identity
  if (identity.projectNumber !== project.number) {
    list.add(at, 'ERR_SPIFFE_CONFIG_IDENTITY_PROJECT_MISMATCH',
      `identity ${quote(text)} is in project number ${quote(identity.projectNumber)}, but this config's project number is ${quote(project.number)}`)
    return identity
  }
  const pool = ctx.pools.find((p) => p.id === identity.poolId)
  if (pool === undefined) {
    // A pool that failed its own rules is reported there; do not report it twice.
    if (!ctx.written.has(identity.poolId)) {
      list.add(at, 'ERR_SPIFFE_CONFIG_IDENTITY_POOL_NOT_FOUND', `identity ${quote(text)} names workload identity pool ${quote(identity.poolId)}, which is not defined`)
    }
    return identity
  }
  const ns = pool.namespaces.find((n) => n.id === identity.namespace)
  if (ns === undefined) {
    if (!ctx.written.has(`${pool.id}/${identity.namespace}`)) list.add(at, 'ERR_SPIFFE_CONFIG_IDENTITY_NAMESPACE_NOT_FOUND', `identity ${quote(text)} names namespace ${quote(identity.namespace)}, which is not defined in pool ${quote(pool.id)}`)
    return identity
  }
  if (!ns.managedIdentities.some((m) => m.id === identity.managedIdentity)) {
    if (!ctx.written.has(`${pool.id}/${ns.id}/${identity.managedIdentity}`)) list.add(at, 'ERR_SPIFFE_CONFIG_IDENTITY_NOT_FOUND', `identity ${quote(text)} names managed identity ${quote(identity.managedIdentity)}, which is not defined in namespace ${quote(ns.id)}`)
    return identity
  }
  try {
    checkAttestation({ workloadIdentityPools: [pool] }, identity, resource)
  } catch (err) {
    list.add(at, 'ERR_SPIFFE_CONFIG_ATTESTATION_DENIED', err instanceof Error ? err.message : String(err))
  }
  return identity
}

/** Returns the URL map resolved (one default when left out and there is one service); records broken references. */
export function resolveUrlMap (raw: RawConfig['urlMap'], services: readonly BackendServiceConfig[], list: IssueList): UrlMapConfig {
  if (raw === undefined) {
    if (services.length > 1) list.add(['urlMap'], 'ERR_SPIFFE_CONFIG_URL_MAP_REQUIRED', `is required when there is more than one backend service (${services.length})`)
    return { defaultService: services[0]?.name ?? '', hostRules: [], pathMatchers: [] }
  }
  const names = new Set(services.map((s) => s.name))
  const service = (name: string, path: ConfigPath): void => {
    if (!names.has(name)) list.add(path, 'ERR_SPIFFE_CONFIG_URL_MAP_SERVICE_NOT_FOUND', `backend service ${quote(name)} is not defined in backendServices[]`)
  }
  service(raw.defaultService, ['urlMap', 'defaultService'])
  const matchers = new Set<string>()
  raw.pathMatchers.forEach((pm, i) => {
    const at = ['urlMap', 'pathMatchers', i]
    if (matchers.has(pm.name)) list.add([...at, 'name'], 'ERR_SPIFFE_CONFIG_DUPLICATE_PATH_MATCHER', `path matcher ${quote(pm.name)} is defined twice`)
    matchers.add(pm.name)
    service(pm.defaultService, [...at, 'defaultService'])
    pm.pathRules.forEach((rule, j) => {
      service(rule.service, [...at, 'pathRules', j, 'service'])
      rule.paths.forEach((p, k) => {
        // The cloud's rule: a path starts with "/", and "*" may only end it, right after a "/".
        if (!p.startsWith('/') || (p.includes('*') && (!p.endsWith('/*') || p.indexOf('*') !== p.length - 1))) {
          list.add([...at, 'pathRules', j, 'paths', k], 'ERR_SPIFFE_CONFIG_PATH_RULE', `path must start with "/" and may only end with "/*", got ${quote(p)}`)
        }
      })
    })
  })
  const hosts = new Set<string>()
  raw.hostRules.forEach((hr, i) => {
    const at = ['urlMap', 'hostRules', i]
    if (!matchers.has(hr.pathMatcher)) list.add([...at, 'pathMatcher'], 'ERR_SPIFFE_CONFIG_PATH_MATCHER_NOT_FOUND', `path matcher ${quote(hr.pathMatcher)} is not defined in urlMap.pathMatchers[]`)
    hr.hosts.forEach((h, k) => {
      const host = h.toLowerCase()
      if (hosts.has(host)) list.add([...at, 'hosts', k], 'ERR_SPIFFE_CONFIG_DUPLICATE_HOST', `host ${quote(h)} appears in more than one host rule`)
      hosts.add(host)
    })
  })
  return {
    defaultService: raw.defaultService,
    hostRules: raw.hostRules.map((r) => ({ hosts: [...r.hosts], pathMatcher: r.pathMatcher })),
    pathMatchers: raw.pathMatchers.map((pm) => ({ name: pm.name, defaultService: pm.defaultService, pathRules: pm.pathRules.map((r) => ({ paths: [...r.paths], service: r.service })) }))
  }
}

/** Returns `o` without its undefined fields (exactOptionalPropertyTypes: absent, not undefined). */
export function defined<T extends object> (o: { [K in keyof T]-?: T[K] | undefined }): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T
}
