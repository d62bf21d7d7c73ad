// The config layer's own files, not its index: the index pulls describe and derived resources,
// which a serving process never uses.
import { formatIssue } from '../config/issues.ts'
import { loadConfigFile } from '../config/load.ts'
import type { SpiffeLbConfig } from '../config/types.ts'
import { EXIT, type CommandOutput } from '../process/command-output.ts'
import { serveIssues } from './routing-plan.ts'
import { CREDENTIALS_ERROR } from '../credentials/errors.ts'

/**
 * Checks the config at `path` without starting the proxy (`spiffe-lb serve --check`): the
 * config rules, then each delivering credential source read once, the way `serve` reads it
 * (see `checkCredentials`). Returns 0 and prints `config ok: …` with a summary (and a line per
 * identity's credentials), or returns 2 and prints every problem as `path: message (CODE)`
 * (docs/architecture.md#process-model: 2 is a usage or config error). A source that does not
 * answer in time is said, not failed: it may come up after the proxy.
 */
export async function runConfigCheck (path: string, out: CommandOutput): Promise<number> {
  const result = await loadServeableConfig(path, out)
  if (!result.ok) return EXIT.USAGE
  const { checkCredentials } = await import('./credential-check.ts')
  const checks = await checkCredentials(result.config)
  const refused = checks.filter((c) => c.result === 'refused')
  if (refused.length > 0) {
    const source = result.config.credentials.source
    writeIssues(path, refused.map((c) => ({
      path: 'credentials',
      code: c.error?.code ?? CREDENTIALS_ERROR.SOURCE_FAILED,
      message: `serve would not put credentials from source ${JSON.stringify(source)} in force for ${c.identity}: ${c.error?.message ?? 'no reason given'}`
    })), out)
    return EXIT.USAGE
  }
  out.stdout.write(`config ok: ${path}: ${summarize(result.config)}\n`)
  for (const c of checks) {
    const why = c.error === undefined ? '' : `: ${c.error.message} (${c.error.code})`
    if (c.result === 'ok') out.stdout.write(`credentials ok: ${c.identity} from ${result.config.credentials.source}\n`)
    if (c.result === 'unreachable') out.stdout.write(`credentials not checked: ${c.identity}: source ${result.config.credentials.source} did not answer in time${why}\n`)
    for (const w of c.warnings) out.stdout.write(`credentials warning: ${w.message} (${w.code})\n`)
  }
  return EXIT.OK
}

/**
 * Loads the config at `path` and applies the rules `serve` adds (see `serveIssues`); on any
 * problem prints every one (`writeIssues`) and returns not ok. `serve` and `serve --check`
 * share it, so they accept exactly the same configs.
 */
export async function loadServeableConfig (path: string, out: CommandOutput): Promise<{ ok: true, config: SpiffeLbConfig } | { ok: false }> {
  const result = await loadConfigFile(path)
  const issues = result.ok ? serveIssues(result.config) : result.errors
  if (!result.ok || issues.length > 0) {
    writeIssues(path, issues, out)
    return { ok: false }
  }
  return { ok: true, config: result.config }
}

/** Prints each issue on its own line to stderr, then a count. */
export function writeIssues (path: string, issues: ReadonlyArray<Parameters<typeof formatIssue>[0]>, out: CommandOutput): void {
  for (const issue of issues) out.stderr.write(`${formatIssue(issue, path)}\n`)
  out.stderr.write(`config invalid: ${path}: ${issues.length} ${issues.length === 1 ? 'error' : 'errors'}\n`)
}

/** Returns a one-line summary: project, pools with their trust domains, identities, services, source. */
export function summarize (config: SpiffeLbConfig): string {
  const pools = config.workloadIdentityPools
  const identities = pools.flatMap((p) => p.namespaces.flatMap((n) => n.managedIdentities)).length
  const extra = new Set([...pools, config.trustBundles].flatMap((p) => p.additionalTrustBundles.trustDomains().map((td) => td.name)))
  const fetched = new Set([...pools, config.trustBundles].flatMap((p) => p.bundleEndpoints.map((e) => e.trustDomain.name)))
  const services = config.backendServices
  const withIdentity = services.filter((s) => s.tlsSettings.identity !== undefined).length
  const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`
  return [
    config.project === undefined ? 'no project (spiffe id identities)' : `project ${config.project.id} (${config.project.number})`,
    `${plural(pools.length, 'workload identity pool')}${pools.length === 0 ? '' : ` (${pools.map((p) => p.trustDomain.name).join(', ')})`}`,
    plural(identities, 'managed identity').replace('identitys', 'identities'),
    `${plural(extra.size, 'additional trust domain')}${extra.size === 0 ? '' : ` (${[...extra].join(', ')})`}`,
    ...(fetched.size === 0 ? [] : [`${plural(fetched.size, 'bundle endpoint')} (${[...fetched].join(', ')})`]),
    `${plural(services.length, 'backend service')} (${withIdentity} with an identity)`,
    `credentials from ${config.credentials.source}`
  ].join(', ')
}
