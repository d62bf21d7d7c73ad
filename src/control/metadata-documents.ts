/**
 * The JSON bodies of the GCE metadata server's workload-certificate endpoints, exactly as seed
 * 003 ("Access the workload credentials and trust bundle using the metadata server") shows them.
 */

/** `…/gce-workload-certificates/workload-identities` */
export interface WorkloadIdentitiesDocument {
  workloadCredentials: Record<string, { certificatePem: string, privateKeyPem: string }>
}

/** `…/gce-workload-certificates/trust-anchors` */
export interface TrustAnchorsDocument {
  trustAnchors: Record<string, { trustAnchorsPem: string }>
}

/** `…/gce-workload-certificates/config-status` (an empty object when there is nothing to report). */
export interface ConfigStatusDocument {
  partnerMetadataConfigsErrors?: { errors: Record<string, string> }
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
