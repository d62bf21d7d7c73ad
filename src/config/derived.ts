import { X509Certificate } from 'node:crypto'
import { quote } from '../internal/errors.ts'
import { parsePem, toPem } from '../internal/pem.ts'
import { BundleSet } from '../spiffe/bundle-set.ts'
import { X509Bundle } from '../spiffe/x509-bundle.ts'
import type { BackendServiceConfig, ManagedIdentityName, SpiffeLbConfig, WorkloadIdentityPoolConfig } from './types.ts'
import { DERIVED_RESOURCE_NAMESPACE, uuidV5 } from './uuid.ts'
import { findCaPool } from './validate-ca-pools.ts'
import { configError } from './errors.ts'

/** Run-time facts the config cannot know: what the control plane created, or what was delivered. */
export interface DeriveInputs {
  /** Root CA certificates (PEM) by CA pool name (`caPools[].name`), created by the local control plane. */
  caRootsPem?: ReadonlyMap<string, string>
  /** Trust anchors (PEM) by trust domain name, as delivered by a `directory` or `metadata` source. */
  trustDomainRootsPem?: ReadonlyMap<string, string>
  /** The current certificate (chain, PEM) by backend service name or by identity (`//…` form). */
  certificatePem?: ReadonlyMap<string, string>
}

/** One trust store of a trust config: a domain and its anchors (empty while the roots are unknown). */
export interface SpiffeTrustStore { trustDomain: string, anchorsPem: string[] }

/**
 * What the cloud creates when a backend service gets an identity (seeds: "automatically created
 * resources"): a backend authentication config, a managed identity certificate and a trust
 * config, all named with an `mi-` prefix and a UUID stable for the project and service.
 */
export interface DerivedResources {
  backendService: string
  identity: ManagedIdentityName
  backendAuthenticationConfig: {
    id: string
    name: string
    /** The `//networksecurity.googleapis.com/…` form the backend service and certificate point to. */
    uri: string
    clientCertificate: string
    trustConfig: string
  }
  certificate: {
    id: string
    name: string
    scope: 'CLIENT_AUTH'
    /** ACTIVE once a certificate is known, PROVISIONING before. */
    state: 'ACTIVE' | 'PROVISIONING'
    pemCertificate: string | undefined
    expireTime: string | undefined
    usedBy: string[]
  }
  trustConfig: {
    id: string
    name: string
    /** The pool's own domain first, then every `additionalTrustBundles` domain. */
    spiffeTrustStores: SpiffeTrustStore[]
    /** The same anchors as bundles, ready for verification (domains without anchors left out). */
    bundles: BundleSet
  }
}

/** Returns the `mi-<kind>-<uuid>` ID of a derived resource of backend service `service`. */
export function derivedId (projectNumber: string, service: string, kind: 'bac' | 'crt' | 'tc'): string {
  return `mi-${kind}-${uuidV5(DERIVED_RESOURCE_NAMESPACE, `projects/${projectNumber}/backendServices/${service}/${kind}`)}`
}

/**
 * Returns the derived resources of every backend service that has an identity, in config order.
 * Throws `ERR_SPIFFE_CONFIG_DERIVE_INPUT` when a PEM in `inputs` is not usable.
 */
export function deriveResources (config: SpiffeLbConfig, inputs: DeriveInputs = {}): DerivedResources[] {
  const out: DerivedResources[] = []
  for (const svc of config.backendServices) {
    const identity = svc.tlsSettings.identity
    // Only a managed identity has derived cloud resources; a SPIFFE ID's come from its source.
    if (identity?.form !== 'managed' || config.project === undefined) continue
    const pool = config.workloadIdentityPools.find((p) => p.id === identity.poolId)
    if (pool === undefined) continue // validation guarantees it exists
    out.push(deriveForService(config, config.project, svc, identity, pool, inputs))
  }
  return out
}

function deriveForService (config: SpiffeLbConfig, project: { id: string, number: string }, svc: BackendServiceConfig, identity: ManagedIdentityName,
  pool: WorkloadIdentityPoolConfig, inputs: DeriveInputs): DerivedResources {
  const { id: projectId, number } = project
  const bacId = derivedId(number, svc.name, 'bac')
  const crtId = derivedId(number, svc.name, 'crt')
  const tcId = derivedId(number, svc.name, 'tc')
  const bacUri = `//networksecurity.googleapis.com/projects/${number}/locations/global/backendAuthenticationConfigs/${bacId}`
  const pem = inputs.certificatePem?.get(svc.name) ?? inputs.certificatePem?.get(identity.name)
  return {
    backendService: svc.name,
    identity,
    backendAuthenticationConfig: {
      id: bacId,
      name: `projects/${number}/locations/global/backendAuthenticationConfigs/${bacId}`,
      uri: `//networksecurity.googleapis.com/projects/${projectId}/locations/global/backendAuthenticationConfigs/${bacId}`,
      clientCertificate: `projects/${number}/locations/global/certificates/${crtId}`,
      trustConfig: `projects/${number}/locations/global/trustConfigs/${tcId}`
    },
    certificate: {
      id: crtId,
      name: `projects/${projectId}/locations/global/certificates/${crtId}`,
      scope: 'CLIENT_AUTH',
      state: pem === undefined ? 'PROVISIONING' : 'ACTIVE',
      pemCertificate: pem?.trim(),
      expireTime: pem === undefined ? undefined : leafExpireTime(pem, svc.name),
      usedBy: [bacUri]
    },
    trustConfig: {
      id: tcId,
      name: `projects/${projectId}/locations/global/trustConfigs/${tcId}`,
      ...trustStores(config, project, pool, inputs)
    }
  }
}

/**
 * Returns the trust stores of a pool (seeds: "the spiffeTrustStores field contains the trust bundle
 * associated with the trust domain of the workload identity pool and any additional trust
 * bundles"): its own domain trusts its CA pools' roots implicitly, plus any anchors listed for
 * it in `additionalTrustBundles`.
 */
function trustStores (config: SpiffeLbConfig, project: { id: string, number: string }, pool: WorkloadIdentityPoolConfig, inputs: DeriveInputs):
{ spiffeTrustStores: SpiffeTrustStore[], bundles: BundleSet } {
  const td = pool.trustDomain
  const ownPem: string[] = []
  for (const ref of Object.values(pool.inlineCertificateIssuanceConfig?.caPools ?? {})) {
    const caPool = findCaPool(config.caPools, ref, project)
    const roots = caPool === undefined ? undefined : inputs.caRootsPem?.get(caPool.name)
    if (roots !== undefined) ownPem.push(roots)
  }
  const delivered = inputs.trustDomainRootsPem?.get(td.name)
  if (delivered !== undefined) ownPem.push(delivered)
  let own = pool.additionalTrustBundles.get(td)
  for (const pem of ownPem) {
    let parsed: X509Bundle
    try {
      parsed = X509Bundle.fromPem(td, pem, `roots of ${td.name}`)
    } catch (err) {
      throw configError('ERR_SPIFFE_CONFIG_DERIVE_INPUT', `ca roots of trust domain ${quote(td.name)} are not usable`, { cause: err })
    }
    own = own === undefined ? parsed : parsed.withAuthorities(own.authorities)
  }
  const bundles = [...(own === undefined ? [] : [own]), ...[...pool.additionalTrustBundles].filter((b) => !b.trustDomain.equals(td))]
  const stores: SpiffeTrustStore[] = [
    { trustDomain: td.name, anchorsPem: own === undefined ? [] : anchorPems(own) },
    ...bundles.filter((b) => !b.trustDomain.equals(td)).map((b) => ({ trustDomain: b.trustDomain.name, anchorsPem: anchorPems(b) }))
  ]
  return { spiffeTrustStores: stores, bundles: BundleSet.of(bundles) }
}

/** Returns one PEM (no trailing newline, as gcloud prints it) per authority. */
function anchorPems (bundle: X509Bundle): string[] {
  return bundle.authorities.map((c) => toPem('CERTIFICATE', c.raw).trimEnd())
}

/** Returns the leaf's notAfter as the cloud prints times (`2025-11-07T22:55:47Z`). */
function leafExpireTime (pem: string, service: string): string {
  try {
    const block = parsePem(pem, `certificate of ${service}`).find((b) => b.type === 'CERTIFICATE')
    if (block === undefined) throw configError('ERR_SPIFFE_CONFIG_DERIVE_INPUT', 'no CERTIFICATE block')
    return new X509Certificate(block.der).validToDate.toISOString().replace(/\.\d{3}Z$/, 'Z')
  } catch (err) {
    throw configError('ERR_SPIFFE_CONFIG_DERIVE_INPUT', `current certificate of backend service ${quote(service)} is not usable`, { cause: err })
  }
}
