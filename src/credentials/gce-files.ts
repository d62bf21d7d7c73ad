import { describeContent } from '../internal/content-summary.ts'
import { quote } from '../internal/errors.ts'
import type { X509Bundle } from '../spiffe/x509-bundle.ts'
import { credentialsError } from './errors.ts'

/**
 * File names of the GCE guest agent's credential directory
 * (`/var/run/secrets/workload-spiffe-credentials`, seed 003 "Access the workload credentials
 * and trust bundle using the file system on the VM").
 */
export const GCE_FILES = {
  /** The SVID chain, leaf first. */
  certificates: 'certificates.pem',
  /** The SVID's private key. */
  privateKey: 'private_key.pem',
  /** Trust anchors of the VM's own trust domain. */
  caCertificates: 'ca_certificates.pem',
  /** Bundles of every trust domain: `{"trust_domains": {TD: {"keys": [...], "spiffe_sequence": n}}}`. */
  trustBundles: 'trust_bundles.json',
  /** The config-status response: errors in the VM's partner metadata. */
  configStatus: 'config_status'
} as const

/**
 * Returns the text of `trust_bundles.json` for `bundles` (each with its `spiffe_sequence`):
 * `{"trust_domains": {TD: {"keys": [...], "spiffe_sequence": n}}}`, as the guest agent writes it.
 */
export function renderTrustBundles (bundles: Iterable<{ bundle: X509Bundle, sequence: number }>): string {
  const trustDomains: Record<string, object> = {}
  for (const { bundle, sequence } of bundles) trustDomains[bundle.trustDomain.name] = bundle.toJwks(sequence)
  return `${JSON.stringify({ trust_domains: trustDomains }, null, 2)}\n`
}

/** The default directory the guest agent maintains (a symlink to a timestamped directory). */
export const GCE_CREDENTIALS_DIR = '/var/run/secrets/workload-spiffe-credentials'

/** Path of the workload-certificate endpoints below the metadata server's root. */
export const GCE_WORKLOAD_CERTIFICATES_PATH = '/computeMetadata/v1/instance/gce-workload-certificates'

/**
 * Returns the errors a config-status document reports, keyed by attribute name. `text` is the
 * body of `…/config-status` or the `config_status` file. Empty text, `{}` and an empty
 * `partnerMetadataConfigsErrors.errors` map mean no errors; text that is not JSON is itself
 * an error message (the file is documented as "a log file containing error messages").
 */
export function configStatusErrors (text: string): Record<string, string> {
  const trimmed = text.trim()
  if (trimmed === '') return {}
  let doc: unknown
  try {
    doc = JSON.parse(trimmed)
  } catch {
    return { config_status: trimmed }
  }
  if (typeof doc !== 'object' || doc === null) return { config_status: trimmed }
  const pmce = (doc as { partnerMetadataConfigsErrors?: unknown }).partnerMetadataConfigsErrors
  if (pmce === undefined || pmce === null) return {}
  const errors = (pmce as { errors?: unknown }).errors
  if (errors === undefined || errors === null) return {}
  if (typeof errors !== 'object') return { partnerMetadataConfigsErrors: String(errors) }
  const out: Record<string, string> = {}
  for (const [k, v] of Object.entries(errors)) out[k] = typeof v === 'string' ? v : JSON.stringify(v)
  return out
}

/** Throws `ERR_SPIFFE_CREDENTIALS_CONFIG_STATUS` naming every attribute when `text` reports errors. */
export function assertConfigStatusClean (text: string, where: string): void {
  const errors = Object.entries(configStatusErrors(text))
  if (errors.length === 0) return
  // A status file is meant to hold messages; one holding key material is summarised, never quoted.
  const list = errors.map(([k, v]) => `${k}: ${v.includes('-----BEGIN ') ? describeContent(v) : quote(v)}`).join('; ')
  throw credentialsError('ERR_SPIFFE_CREDENTIALS_CONFIG_STATUS',
    `the workload certificate config has errors (partnerMetadataConfigsErrors): ${list}`, { at: where })
}
