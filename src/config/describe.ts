import { createHash } from 'node:crypto'
import { stringify } from 'yaml'
import { quote } from '../internal/errors.ts'
import { toPem } from '../internal/pem.ts'
import { deriveResources, type DeriveInputs, type DerivedResources } from './derived.ts'
import type { BackendServiceConfig, SpiffeLbConfig, WorkloadIdentityPoolConfig } from './types.ts'
import { formatDuration } from '../internal/duration.ts'
import { configError } from './errors.ts'
import { closestKey } from './key-suggestion.ts'

/** The resource kinds `describe` knows, named like the gcloud command groups. */
export const DESCRIBE_KINDS = ['workload-identity-pools', 'backend-services', 'backend-authentication-configs', 'certificates', 'trust-configs'] as const
export type DescribeKind = typeof DESCRIBE_KINDS[number]

/** One described resource: its kind, the names it answers to, and the body gcloud would print. */
export interface DescribedResource { kind: DescribeKind, names: string[], body: Record<string, unknown> }

export interface DescribeOptions {
  /** Only this kind (plural or singular). */
  kind?: string
  /** Only the resource with this ID or full name (needs `kind`). */
  name?: string
  /** CA roots and current certificates known at run time; fields they fill are omitted otherwise. */
  inputs?: DeriveInputs
}

/** Returns the kind named by `s` (plural or singular). Throws `ERR_SPIFFE_CONFIG_UNKNOWN_KIND`. */
export function parseDescribeKind (s: string): DescribeKind {
  const kind = DESCRIBE_KINDS.find((k) => k === s || k === `${s}s`)
  if (kind === undefined) {
    throw configError('ERR_SPIFFE_CONFIG_UNKNOWN_KIND', `resource kind must be one of ${DESCRIBE_KINDS.join(', ')}, got ${quote(s)}`)
  }
  return kind
}

/**
 * Returns the resources of `config`, the derived ones included, as the bodies the seeds show for
 * `gcloud iam workload-identity-pools describe`, `gcloud beta compute backend-services
 * describe`, `gcloud network-security backend-authentication-configs describe` and
 * `gcloud certificate-manager certificates|trust-configs describe`. Throws
 * `ERR_SPIFFE_CONFIG_RESOURCE_NOT_FOUND` when `name` matches nothing.
 */
export function describeResources (config: SpiffeLbConfig, opts: DescribeOptions = {}): DescribedResource[] {
  const kind = opts.kind === undefined ? undefined : parseDescribeKind(opts.kind)
  const derived = deriveResources(config, opts.inputs)
  const all: DescribedResource[] = [
    ...config.workloadIdentityPools.map((p) => ({ kind: 'workload-identity-pools' as const, names: [p.id, p.name], body: poolBody(p) })),
    ...config.backendServices.map((s) => ({ kind: 'backend-services' as const, names: [s.name], body: serviceBody(config, s, derived) })),
    ...derived.map((d) => ({ kind: 'backend-authentication-configs' as const, names: [d.backendAuthenticationConfig.id, d.backendAuthenticationConfig.name, d.backendAuthenticationConfig.uri], body: bacBody(d) })),
    ...derived.map((d) => ({ kind: 'certificates' as const, names: [d.certificate.id, d.certificate.name], body: certificateBody(d) })),
    ...derived.map((d) => ({ kind: 'trust-configs' as const, names: [d.trustConfig.id, d.trustConfig.name], body: trustConfigBody(d) }))
  ]
  const selected = all.filter((r) => (kind === undefined || r.kind === kind) && (opts.name === undefined || r.names.includes(opts.name)))
  if (opts.name !== undefined && selected.length === 0) {
    // Name what exists, so a typo is one look away from its fix.
    const existing = all.filter((r) => kind === undefined || r.kind === kind).map((r) => r.names[0] ?? '')
    const near = closestKey(opts.name, existing)
    const hint = existing.length === 0
      ? `; the config has no ${kind ?? 'resources'}`
      : `${near === undefined ? '' : `; did you mean ${quote(near)}?`}; ${kind ?? 'resources'} there: ${existing.join(', ')}`
    throw configError('ERR_SPIFFE_CONFIG_RESOURCE_NOT_FOUND', `no ${kind ?? 'resource'} named ${quote(opts.name)} in ${quote(config.source)}${hint}`)
  }
  return selected
}

/** Returns `describeResources` as YAML: one document per resource, `---` between documents. */
export function renderDescribe (config: SpiffeLbConfig, opts: DescribeOptions = {}): string {
  return describeResources(config, opts).map((r) => toYaml(r.body)).join('---\n')
}

/** Returns a body as gcloud prints it: sorted keys, unindented lists, PEMs as `|-` blocks. */
export function toYaml (body: unknown): string {
  return stringify(body, { sortMapEntries: true, lineWidth: 0, indentSeq: false, singleQuote: true })
}

function poolBody (pool: WorkloadIdentityPoolConfig): Record<string, unknown> {
  const body: Record<string, unknown> = { mode: pool.mode, name: pool.name, state: 'ACTIVE' }
  const cic = pool.inlineCertificateIssuanceConfig
  if (cic !== undefined) {
    body.inlineCertificateIssuanceConfig = {
      caPools: { ...cic.caPools },
      keyAlgorithm: cic.keyAlgorithm,
      lifetime: formatDuration(cic.lifetimeMs),
      rotationWindowPercentage: cic.rotationWindowPercentage
    }
  }
  if (pool.additionalTrustBundles.size > 0) {
    body.inlineTrustConfig = {
      additionalTrustBundles: Object.fromEntries([...pool.additionalTrustBundles].map((b) => [b.trustDomain.name, {
        trustAnchors: b.authorities.map((c) => ({ pemCertificate: toPem('CERTIFICATE', c.raw).trimEnd() }))
      }]))
    }
  }
  if (pool.bundleEndpoints.length > 0) {
    // Not a cloud field: federated domains fetched from their SPIFFE bundle endpoint.
    body.spiffeLbExtensions = {
      bundleEndpoints: Object.fromEntries(pool.bundleEndpoints.map((e) => [e.trustDomain.name, {
        url: e.url,
        profile: e.profile,
        ...(e.profile === 'https_spiffe' ? { endpointSpiffeId: e.endpointSpiffeId.toString() } : {}),
        maxBundleAge: formatDuration(e.maxBundleAgeMs)
      }]))
    }
  }
  return body
}

function serviceBody (config: SpiffeLbConfig, svc: BackendServiceConfig, derived: readonly DerivedResources[]): Record<string, unknown> {
  const tls = svc.tlsSettings
  const bac = derived.find((d) => d.backendService === svc.name)?.backendAuthenticationConfig
  const tlsSettings: Record<string, unknown> = {}
  if (tls.identity !== undefined) tlsSettings.identity = tls.identity.name
  const authenticationConfig = bac?.uri ?? tls.authenticationConfig
  if (authenticationConfig !== undefined) tlsSettings.authenticationConfig = authenticationConfig
  if (tls.sni !== undefined) tlsSettings.sni = tls.sni
  if (tls.subjectAltNames.length > 0) tlsSettings.subjectAltNames = tls.subjectAltNames.map((s) => ({ ...s }))
  const hc = svc.healthCheck
  const body: Record<string, unknown> = {
    backends: svc.backends.map((b) => ({ endpoints: b.endpoints.map((e) => e.address) })),
    connectionPool: { ...svc.connectionPool },
    kind: 'compute#backendService',
    loadBalancingScheme: 'EXTERNAL_MANAGED',
    localityLbPolicy: svc.localityLbPolicy,
    name: svc.name,
    protocol: svc.protocol,
    timeoutSec: svc.timeoutMs / 1000
  }
  // Without a project (a SPIFFE-ID config) there is no cloud resource to link to.
  if (config.project !== undefined) body.selfLink = `https://www.googleapis.com/compute/beta/projects/${config.project.id}/global/backendServices/${svc.name}`
  if (Object.keys(tlsSettings).length > 0) body.tlsSettings = tlsSettings
  if (hc !== undefined) {
    body.healthCheck = {
      checkIntervalSec: hc.checkIntervalMs / 1000,
      healthyThreshold: hc.healthyThreshold,
      requestPath: hc.requestPath,
      timeoutSec: hc.timeoutMs / 1000,
      unhealthyThreshold: hc.unhealthyThreshold
    }
  }
  // Fields the cloud's backend service does not have are shown apart, under one extension key.
  if (svc.authorization !== undefined) {
    body.spiffeLbExtensions = { authorization: { allowedPeers: svc.authorization.allowedPeers.map(String) } }
  }
  return body
}

function bacBody (d: DerivedResources): Record<string, unknown> {
  const bac = d.backendAuthenticationConfig
  return withEtag({ clientCertificate: bac.clientCertificate, name: bac.name, trustConfig: bac.trustConfig })
}

function certificateBody (d: DerivedResources): Record<string, unknown> {
  const c = d.certificate
  const body: Record<string, unknown> = {
    extendedKeyUsage: { clientAuth: true },
    managedIdentity: { identity: d.identity.name, state: c.state },
    name: c.name,
    scope: c.scope,
    usedBy: c.usedBy.map((name) => ({ name }))
  }
  if (c.expireTime !== undefined) body.expireTime = c.expireTime
  if (c.pemCertificate !== undefined) body.pemCertificate = c.pemCertificate
  return body
}

function trustConfigBody (d: DerivedResources): Record<string, unknown> {
  const stores = Object.fromEntries(d.trustConfig.spiffeTrustStores.map((s) => [s.trustDomain,
    // The pool's own roots exist only once the control plane made its CA: show the domain, omit anchors.
    s.anchorsPem.length === 0 ? {} : { trustAnchors: s.anchorsPem.map((pemCertificate) => ({ pemCertificate })) }]))
  return withEtag({ name: d.trustConfig.name, spiffeTrustStores: stores })
}

/** Returns `body` with an etag that changes exactly when its content does (43 chars, like the cloud's). */
function withEtag (body: Record<string, unknown>): Record<string, unknown> {
  return { ...body, etag: createHash('sha256').update(JSON.stringify(body)).digest('base64url') }
}
