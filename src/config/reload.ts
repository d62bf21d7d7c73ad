import { quote } from '../internal/errors.ts'
import type { ConfigErrorCode } from './errors.ts'
import { BundleSet } from '../spiffe/bundle-set.ts'
import { formatPath, type ConfigIssue } from './issues.ts'
import { loadConfigFile, parseConfig } from './load.ts'
import type { SpiffeLbConfig } from './types.ts'

/** A new config for {@link reloadConfig}: its text (paths resolved like the running one's) or a file. */
export type ReloadInput =
  | { text: string, source?: string, baseDir?: string, format?: 'yaml' | 'json' }
  | { file: string }

/** The new config with a one-line summary per change, or every reason it was refused. */
export type ReloadResult =
  | { ok: true, config: SpiffeLbConfig, changes: string[] }
  | { ok: false, errors: ConfigIssue[] }

/**
 * Returns the config that replaces `running`, or why it cannot. The new config must be valid on
 * its own, and a backend service that already exists keeps its identity: the seeds say the
 * identity "can only be assigned during backend service creation" and "cannot be updated or
 * deleted" (codes `ERR_SPIFFE_CONFIG_IDENTITY_IMMUTABLE`, `_ADDED`, `_REMOVED`). Everything
 * else may change; a refused reload leaves `running` in force (config/schema.ts).
 */
export async function reloadConfig (running: SpiffeLbConfig, next: ReloadInput): Promise<ReloadResult> {
  const result = 'file' in next
    ? await loadConfigFile(next.file)
    : parseConfig(next.text, {
      source: next.source ?? running.source,
      baseDir: next.baseDir ?? running.baseDir,
      ...(next.format === undefined ? {} : { format: next.format })
    })
  if (!result.ok) return result
  const config = result.config
  const errors: ConfigIssue[] = []
  const changes: string[] = []
  config.backendServices.forEach((svc, i) => {
    const path = formatPath(['backendServices', i, 'tlsSettings', 'identity'])
    const old = running.backendServices.find((s) => s.name === svc.name)
    if (old === undefined) {
      changes.push(`backend service ${quote(svc.name)} added`)
      return
    }
    const before = old.tlsSettings.identity
    const after = svc.tlsSettings.identity
    if (before !== undefined && after !== undefined && !before.spiffeId.equals(after.spiffeId)) {
      errors.push({ path, code: 'ERR_SPIFFE_CONFIG_IDENTITY_IMMUTABLE' satisfies ConfigErrorCode, message: `identity of backend service ${quote(svc.name)} is immutable: it is ${quote(before.name)}, the new config says ${quote(after.name)}` })
    } else if (before === undefined && after !== undefined) {
      errors.push({ path, code: 'ERR_SPIFFE_CONFIG_IDENTITY_ADDED' satisfies ConfigErrorCode, message: `identity ${quote(after.name)} cannot be added to existing backend service ${quote(svc.name)}: an identity is assigned only when a backend service is created` })
    } else if (before !== undefined && after === undefined) {
      errors.push({ path, code: 'ERR_SPIFFE_CONFIG_IDENTITY_REMOVED' satisfies ConfigErrorCode, message: `identity ${quote(before.name)} of backend service ${quote(svc.name)} cannot be removed: it is immutable` })
    } else if (JSON.stringify(old) !== JSON.stringify(svc)) {
      changes.push(`backend service ${quote(svc.name)} changed`)
    }
  })
  for (const old of running.backendServices) {
    if (!config.backendServices.some((s) => s.name === old.name)) changes.push(`backend service ${quote(old.name)} removed`)
  }
  // The inbound listener's certificate source, mode and peers are set when it starts.
  if (JSON.stringify(sortable(running.frontend.serverTlsPolicy ?? null)) !== JSON.stringify(sortable(config.frontend.serverTlsPolicy ?? null))) {
    errors.push({ path: 'frontend.serverTlsPolicy', code: 'ERR_SPIFFE_CONFIG_SERVER_TLS_POLICY_RESTART' satisfies ConfigErrorCode, message: 'frontend.serverTlsPolicy cannot change while serving: restart serve to apply it' })
  }
  for (const key of ['workloadIdentityPools', 'caPools', 'urlMap', 'frontend', 'admin', 'credentials', 'revocation'] as const) {
    if (JSON.stringify(sortable(running[key])) !== JSON.stringify(sortable(config[key]))) changes.push(`${key} changed`)
  }
  return errors.length > 0 ? { ok: false, errors } : { ok: true, config, changes }
}

/** Returns a JSON-comparable view: bundle sets become their domains and fingerprints. */
function sortable (value: unknown): unknown {
  return JSON.parse(JSON.stringify(value, (_key, v: unknown) => {
    if (v instanceof BundleSet) return [...v].map((b) => [b.trustDomain.name, b.fingerprints()])
    return v
  }))
}
