import { quote } from '../internal/errors.ts'
import { BundleSet } from '../spiffe/bundle-set.ts'
import { TrustDomain } from '../spiffe/trust-domain.ts'
import { X509Bundle } from '../spiffe/x509-bundle.ts'
import type { MetadataResponse } from './metadata-client.ts'
import { parseStrictJson } from './strict-json.ts'
import { credentialsError } from './errors.ts'

/*
 * The JSON bodies of the GCE metadata server's workload-certificate endpoints, exactly as seed
 * 003 ("Access the workload credentials and trust bundle using the metadata server") shows
 * them. The one owner of this wire format: the metadata source and the agent read it with the
 * parsers below, the emulated metadata server writes it with the builders at the end.
 */

/** One entry of `workloadCredentials` (seed 003): chain and key from the SAME response. */
export interface WorkloadCredential { certificatePem: string, privateKeyPem: string }

/** `…/gce-workload-certificates/workload-identities` */
export interface WorkloadIdentitiesDocument {
  workloadCredentials: Record<string, WorkloadCredential>
}

/** `…/gce-workload-certificates/trust-anchors` */
export interface TrustAnchorsDocument {
  trustAnchors: Record<string, { trustAnchorsPem: string }>
}

/** `…/gce-workload-certificates/config-status` (an empty object when there is nothing to report). */
export interface ConfigStatusDocument {
  partnerMetadataConfigsErrors?: { errors: Record<string, string> }
}

/**
 * Returns the body of a 200 answer. HTTP 412 means the VM's workload certificates are not
 * configured (yet): `ERR_SPIFFE_CREDENTIALS_NOT_CONFIGURED`, keep polling. Anything else
 * is `ERR_SPIFFE_CREDENTIALS_METADATA_HTTP`.
 */
export function expectOk (res: MetadataResponse): string {
  if (res.status === 200) return res.body
  if (res.status === 412) {
    throw credentialsError('ERR_SPIFFE_CREDENTIALS_NOT_CONFIGURED',
      `metadata server answers 412: workload certificates are not configured for this instance yet`, { at: res.url })
  }
  throw credentialsError('ERR_SPIFFE_CREDENTIALS_METADATA_HTTP',
    `metadata server answered http ${res.status}: ${quote(res.body.slice(0, 200))}`, { at: res.url })
}

/** Returns the `workloadCredentials` map of a workload-identities body, keyed by SPIFFE ID as written. */
export function parseWorkloadIdentities (body: string, where: string): Map<string, WorkloadCredential> {
  const creds = objectAt(parseStrictJson(body, where), 'workloadCredentials', where)
  const out = new Map<string, WorkloadCredential>()
  for (const [id, value] of Object.entries(creds)) {
    const entry = value as Partial<WorkloadCredential> | null
    if (typeof entry?.certificatePem !== 'string' || typeof entry.privateKeyPem !== 'string') {
      throw credentialsError('ERR_SPIFFE_CREDENTIALS_METADATA_SHAPE',
        `workloadCredentials.${id} needs string certificatePem and privateKeyPem`, { at: where })
    }
    out.set(id, { certificatePem: entry.certificatePem, privateKeyPem: entry.privateKeyPem })
  }
  return out
}

/** Returns the `trustAnchors` map of a trust-anchors body: trust domain as written → PEM. */
export function parseTrustAnchors (body: string, where: string): Map<string, string> {
  const anchors = objectAt(parseStrictJson(body, where), 'trustAnchors', where)
  const out = new Map<string, string>()
  for (const [td, value] of Object.entries(anchors)) {
    const pem = (value as { trustAnchorsPem?: unknown } | null)?.trustAnchorsPem
    if (typeof pem !== 'string') {
      throw credentialsError('ERR_SPIFFE_CREDENTIALS_METADATA_SHAPE',
        `trustAnchors.${td}.trustAnchorsPem is not a string`, { at: where })
    }
    out.set(td, pem)
  }
  return out
}

/**
 * Returns the trust anchors as one bundle per trust domain. Keys are parsed as trust domain
 * names and matched exactly (the guest agent's substring match would let `example.org`
 * answer for `bad-example.org`); two keys naming the same domain are refused.
 */
export function trustAnchorsToBundles (anchors: ReadonlyMap<string, string>, where: string): BundleSet {
  const bundles: X509Bundle[] = []
  for (const [key, pem] of anchors) {
    const td = TrustDomain.fromString(key)
    bundles.push(X509Bundle.fromPem(td, pem, `${where} trustAnchors.${key}`))
  }
  return BundleSet.of(bundles)
}

function objectAt (doc: unknown, key: string, where: string): Record<string, unknown> {
  const value = typeof doc === 'object' && doc !== null ? (doc as Record<string, unknown>)[key] : undefined
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw credentialsError('ERR_SPIFFE_CREDENTIALS_METADATA_SHAPE',
      `response has no ${quote(key)} object`, { at: where })
  }
  return value as Record<string, unknown>
}

/** Returns the workload-identities body for one SPIFFE ID. */
export function workloadIdentitiesDocument (spiffeId: string, certificatePem: string, privateKeyPem: string): WorkloadIdentitiesDocument {
  return { workloadCredentials: { [spiffeId]: { certificatePem, privateKeyPem } } }
}

/** Returns the trust-anchors body: trust domain name → PEM bundle of its roots. */
export function trustAnchorsDocument (anchors: ReadonlyMap<string, string>): TrustAnchorsDocument {
  const trustAnchors: Record<string, { trustAnchorsPem: string }> = {}
  for (const [td, pem] of anchors) trustAnchors[td] = { trustAnchorsPem: pem }
  return { trustAnchors }
}

/** Returns the config-status body; errors are keyed by partner metadata attribute name. */
export function configStatusDocument (errors: Readonly<Record<string, string>> | undefined): ConfigStatusDocument {
  if (errors === undefined || Object.keys(errors).length === 0) return {}
  return { partnerMetadataConfigsErrors: { errors: { ...errors } } }
}
