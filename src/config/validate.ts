import { isAbsolute, resolve } from 'node:path'
import { quote } from '../internal/errors.ts'
import { IssueList } from './issues.ts'
import type { RawConfig } from './schema.ts'
import type { FrontendLimitsConfig, SpiffeLbConfig } from './types.ts'
import { durationAt, resolveCaPools } from './validate-ca-pools.ts'
import { resolvePools } from './validate-pools.ts'
import { defined, hostPortAt, resolveServices, resolveUrlMap } from './validate-services.ts'
import { isHttpUrl } from './values.ts'
import { resolveRevocation } from './validate-revocation.ts'
import { resolveServerTlsPolicy } from './validate-inbound.ts'
import { resolveTrustStores } from './trust-bundles.ts'
import { resolveBundleEndpoints } from './bundle-endpoints.ts'
import { METADATA_POLL_INTERVAL_MS } from '../defaults.ts'

/** A dns name: dot-separated labels of letters, digits and inner hyphens (RFC 1123). */
const DNS_NAME = /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/i
const PROJECT_ID = /^[a-z][a-z0-9-]{4,28}[a-z0-9]$/

/** Returns `pool`, `pool/ns`, `pool/ns/id` for everything written, valid or not. */
function writtenKeys (raw: RawConfig): Set<string> {
  const keys = new Set<string>()
  for (const pool of raw.workloadIdentityPools) {
    const id = pool.id ?? pool.name?.split('/').pop() ?? ''
    keys.add(id)
    for (const ns of pool.namespaces) {
      keys.add(`${id}/${ns.id}`)
      for (const mi of ns.managedIdentities) keys.add(`${id}/${ns.id}/${mi.id}`)
    }
  }
  return keys
}

/**
 * Returns why the config needs `project` (the cloud's form: pools, CA pools, a managed identity,
 * the local issuer), or undefined when nothing in it is in the cloud's form.
 */
function projectNeededBy (raw: RawConfig): string | undefined {
  if (raw.workloadIdentityPools.length > 0) return 'workloadIdentityPools are declared'
  if (raw.caPools.length > 0) return 'caPools are declared'
  if (raw.credentials.source === 'issuer') return 'credentials.source "issuer" issues from the project\'s pools (a spiffe id identity needs source directory, metadata or workload-api)'
  const managed = raw.backendServices.find((s) => s.tlsSettings?.identity?.startsWith('//') === true)
  if (managed !== undefined) return `backend service ${quote(managed.name)} has a managed identity "//…" (write a spiffe id "spiffe://…" to use any trust domain)`
  return undefined
}

/** Returns the top-level `trustBundles` extension resolved: inline anchors and bundle endpoints. */
function resolveTrustBundles (raw: RawConfig['trustBundles'], baseDir: string, list: IssueList): SpiffeLbConfig['trustBundles'] {
  const map = raw ?? {}
  return {
    additionalTrustBundles: resolveTrustStores(map, ['trustBundles'], baseDir, list),
    bundleEndpoints: resolveBundleEndpoints(map, ['trustBundles'], undefined, baseDir, list)
  }
}

/**
 * Checks every rule of the seeds and of config/schema.ts on a structurally valid config and
 * returns the resolved config, or every issue found (all at once, each with its path).
 */
export function validateConfig (raw: RawConfig, opts: { source: string, baseDir: string }):
{ ok: true, config: SpiffeLbConfig } | { ok: false, issues: IssueList } {
  const list = new IssueList()
  const source = raw.credentials.source
  const project = { id: raw.project?.id ?? '', number: String(raw.project?.number ?? '') }
  const needsProject = projectNeededBy(raw)
  if (raw.project === undefined) {
    if (needsProject !== undefined) list.add(['project'], 'ERR_SPIFFE_CONFIG_REQUIRED', `is required: ${needsProject}`)
  } else if (!PROJECT_ID.test(project.id)) {
    list.add(['project', 'id'], 'ERR_SPIFFE_CONFIG_PROJECT_ID',
      `project id must be 6 to 30 lowercase letters, digits or hyphens, starting with a letter and not ending with a hyphen, got ${quote(project.id)}`)
  }
  // Without a project nothing is compared against its number (the one error above says why).
  const projectNumberOk = raw.project !== undefined && /^[0-9]+$/.test(project.number)
  if (raw.project !== undefined && !projectNumberOk) {
    list.add(['project', 'number'], 'ERR_SPIFFE_CONFIG_PROJECT_NUMBER', `project number must be digits only, got ${quote(project.number)}`)
  }
  const ctx = { project, projectNumberOk, baseDir: opts.baseDir, list }
  const caPools = resolveCaPools(raw.caPools, ctx)
  // A pool's trust domain and names derive from the project number: without it, only the missing project is reported.
  const pools = raw.project === undefined ? [] : resolvePools(raw.workloadIdentityPools, caPools, ctx)
  const serverTlsPolicy = resolveServerTlsPolicy(raw.frontend, opts.baseDir, list)
  const backendServices = resolveServices(raw.backendServices, { project, projectNumberOk, pools, source, written: writtenKeys(raw), list, inbound: raw.frontend.serverTlsPolicy !== undefined })
  const urlMap = resolveUrlMap(raw.urlMap, backendServices, list)
  const trustBundles = resolveTrustBundles(raw.trustBundles, opts.baseDir, list)

  // Seeds: a pool's certificates come from the CA pools of its inline certificate issuance
  // config. The local issuer needs one for every pool a backend service takes an identity
  // from; a directory or metadata source delivers the certificates (and the pool's bundle).
  if (source === 'issuer') {
    const reported = new Set<string>()
    backendServices.forEach((svc, i) => {
      const id = svc.tlsSettings.identity
      const pool = id?.form === 'managed' ? pools.find((p) => p.id === id.poolId) : undefined
      if (pool === undefined || pool.inlineCertificateIssuanceConfig !== undefined || reported.has(pool.id)) return
      reported.add(pool.id)
      const at = ['workloadIdentityPools', pools.indexOf(pool), 'inlineCertificateIssuanceConfig']
      list.add(at, 'ERR_SPIFFE_CONFIG_CIC_REQUIRED',
        `pool ${quote(pool.id)} needs an inlineCertificateIssuanceConfig: backendServices[${i}] takes its identity from it and credentials.source is "issuer"`)
    })
  }

  const frontendListen = hostPortAt(raw.frontend.listen, ['frontend', 'listen'], 'ERR_SPIFFE_CONFIG_LISTEN', 0, list)
  const adminListen = hostPortAt(raw.admin.listen, ['admin', 'listen'], 'ERR_SPIFFE_CONFIG_LISTEN', 0, list)
  if (frontendListen !== undefined && adminListen !== undefined && frontendListen.port !== 0 &&
      frontendListen.port === adminListen.port && frontendListen.host === adminListen.host) {
    list.add(['admin', 'listen'], 'ERR_SPIFFE_CONFIG_LISTEN_CONFLICT', `admin and frontend cannot both listen on ${quote(raw.admin.listen)}`)
  }
  const allowedHosts = raw.admin.allowedHosts.map((h, i) => {
    if (!DNS_NAME.test(h)) {
      list.add(['admin', 'allowedHosts', i], 'ERR_SPIFFE_CONFIG_ADMIN_HOST', `admin.allowedHosts[${i}] must be a dns name without port or scheme, got ${quote(h)}`)
    }
    return h.toLowerCase()
  })
  const creds = raw.credentials
  if (!isHttpUrl(creds.metadataUrl)) {
    list.add(['credentials', 'metadataUrl'], 'ERR_SPIFFE_CONFIG_METADATA_URL', `metadata url must be an http or https url, got ${quote(creds.metadataUrl)}`)
  }
  const pollIntervalMs = durationAt(creds.pollInterval, ['credentials', 'pollInterval'], list)
  if (pollIntervalMs === 0) list.add(['credentials', 'pollInterval'], 'ERR_SPIFFE_CONFIG_POLL_INTERVAL', 'poll interval must be more than 0s, got "0s"')

  const rawLimits = raw.frontend.limits ?? {}
  const limitMs = (key: 'headersTimeout' | 'requestTimeout' | 'keepAliveTimeout' | 'http2ResetStreamsWindow'): number | undefined => {
    const text = rawLimits[key]
    if (text === undefined) return undefined
    const ms = durationAt(text, ['frontend', 'limits', key], list)
    if (ms === 0) list.add(['frontend', 'limits', key], 'ERR_SPIFFE_CONFIG_DURATION', `${key} must be more than 0s, got ${quote(text)}`)
    return ms
  }
  const limits = defined<FrontendLimitsConfig>({
    maxConnections: rawLimits.maxConnections,
    headersTimeoutMs: limitMs('headersTimeout'),
    requestTimeoutMs: limitMs('requestTimeout'),
    keepAliveTimeoutMs: limitMs('keepAliveTimeout'),
    maxHeaderSize: rawLimits.maxHeaderSize,
    http2MaxConcurrentStreams: rawLimits.http2MaxConcurrentStreams,
    http2MaxResetStreams: rawLimits.http2MaxResetStreams,
    http2ResetStreamsWindowMs: limitMs('http2ResetStreamsWindow')
  })

  const revocation = resolveRevocation(raw.revocation, opts.baseDir, list)

  if (list.size > 0 || frontendListen === undefined || adminListen === undefined) return { ok: false, issues: list }
  const path = (p: string): string => isAbsolute(p) ? p : resolve(opts.baseDir, p)
  const tls = raw.frontend.tls
  return {
    ok: true,
    config: {
      source: opts.source,
      baseDir: opts.baseDir,
      project: raw.project === undefined ? undefined : project,
      caPools,
      workloadIdentityPools: pools,
      backendServices,
      urlMap,
      frontend: { listen: frontendListen, tls: tls === undefined ? undefined : { certFile: path(tls.certFile), keyFile: path(tls.keyFile) }, limits, allowTrace: raw.frontend.allowTrace, serverTlsPolicy },
      admin: { listen: adminListen, allowedHosts },
      credentials: {
        source,
        directory: path(creds.directory),
        metadataUrl: creds.metadataUrl,
        pollIntervalMs: pollIntervalMs ?? METADATA_POLL_INTERVAL_MS,
        stateDir: path(creds.stateDir),
        ...(creds.endpoint === undefined ? {} : { endpoint: creds.endpoint })
      },
      trustBundles,
      revocation
    }
  }
}
