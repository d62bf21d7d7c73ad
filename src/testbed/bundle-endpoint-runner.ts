import { loadConfigFile } from '../config/index.ts'
import type { SpiffeLbConfig, WorkloadIdentityPoolConfig } from '../config/types.ts'
import { parseDuration } from '../config/values.ts'
import { createBundleEndpointServer, type BundleEndpointServer } from '../control/bundle-endpoint-server.ts'
import { PoolBundle } from '../control/pool-bundle.ts'
import { openPoolCa } from '../control/pool-issuance.ts'
import { BUNDLE_ENDPOINT_REFRESH_HINT_MS } from '../defaults.ts'
import { systemClock, type Clock } from '../internal/clock.ts'
import { isSpiffeLbError, quote } from '../internal/errors.ts'
import { parseHostPort } from '../internal/host-port.ts'
import { commandLogger, lifecycle } from '../process/command-log.ts'
import { EXIT, type CommandOutput } from '../process/command-output.ts'
import { writeIssues } from '../runtime/config-check.ts'
import { cliError } from '../process/errors.ts'
import { readTextFile } from '../process/read-text-file.ts'

/** Options of `spiffe-lb bundle-endpoint`, as commander parses them. */
export interface BundleEndpointCommandOptions {
  config: string
  listen: string
  pool?: string
  cert: string
  key: string
  state?: string
  refreshHint: string
}

/**
 * Starts a SPIFFE bundle endpoint for a workload identity pool of a config: it serves the
 * bundle of the pool's local CA (`<stateDir>/ca-pools/<id>`, created on first use like `up` and
 * `metadata-server` do), re-read per request so a rotated CA is served with a higher
 * `spiffe_sequence`. `--cert`/`--key` are its server certificate: an X509-SVID of the pool's
 * domain for partners using https_spiffe, a web certificate for https_web. Returns the running
 * server, or an exit code after printing why it could not start.
 */
export async function startBundleEndpointCommand (opts: BundleEndpointCommandOptions, out: CommandOutput, clock: Clock = systemClock): Promise<BundleEndpointServer | number> {
  const loaded = await loadConfigFile(opts.config)
  if (!loaded.ok) {
    writeIssues(opts.config, loaded.errors, out)
    return EXIT.USAGE
  }
  const config = loaded.config
  const pool = choosePool(config, opts.pool)
  const listen = parseHostPort(opts.listen, 'ERR_SPIFFE_CLI_LISTEN', 0, cliError)
  const refreshHintMs = refreshHintOption(opts.refreshHint)
  const [certPem, keyPem] = [await readTextFile(opts.cert, 'certificate'), await readTextFile(opts.key, 'private key')]
  const { caDir: dir } = await openPoolCa(config, pool, { ...(opts.state === undefined ? {} : { stateDir: opts.state }), clock })
  const bundle = new PoolBundle(dir, pool.trustDomain)
  const first = await bundle.current()
  let lastError = ''
  const server = await createBundleEndpointServer({
    listen,
    certPem,
    keyPem,
    refreshHintMs,
    bundle: async () => await bundle.current(),
    onError: (err) => {
      const line = isSpiffeLbError(err) ? `${err.code}: ${err.message}` : String(err)
      if (line !== lastError) commandLogger(out).warn(`cannot read the bundle, serving the last good one: ${line}`)
      lastError = line
    }
  })
  lifecycle(commandLogger(out)).info({ url: server.url, trustDomain: pool.trustDomain.name }, `bundle endpoint listening on ${server.url} for trust domain ${pool.trustDomain.name} ` +
    `(ca ${dir}, spiffe_sequence ${first.sequence}, ${first.bundle.authorities.length} anchor${first.bundle.authorities.length === 1 ? '' : 's'}, refresh hint ${refreshHintMs / 1000}s)`)
  return server
}

/** Returns the pool `--pool` names, or the config's only pool with an issuance config. */
function choosePool (config: SpiffeLbConfig, id: string | undefined): WorkloadIdentityPoolConfig {
  const candidates = config.workloadIdentityPools.filter((p) => id === undefined ? p.inlineCertificateIssuanceConfig !== undefined : p.id === id)
  const pool = candidates[0]
  if (pool === undefined || candidates.length > 1) {
    const ids = config.workloadIdentityPools.map((p) => p.id).join(', ')
    throw cliError('ERR_SPIFFE_CLI_POOL', id === undefined
      ? `give --pool: the config has ${candidates.length} pools with an issuance config (${ids === '' ? 'none' : ids})`
      : `--pool ${quote(id)} is not a workload identity pool of the config (${ids === '' ? 'none' : ids})`, { at: '--pool' })
  }
  return pool
}

function refreshHintOption (text: string): number {
  try {
    const ms = parseDuration(text)
    if (ms >= 1000 && ms % 1000 === 0) return ms
  } catch (err) {
    if (!isSpiffeLbError(err)) throw err
  }
  throw cliError('ERR_SPIFFE_CLI_REFRESH_HINT', `--refresh-hint must be a duration of whole seconds, at least "1s", like "300s" or "5m", got ${quote(text)}`, { at: '--refresh-hint' })
}

/** The default `--refresh-hint`, for `--help`. */
export const DEFAULT_REFRESH_HINT = `${BUNDLE_ENDPOINT_REFRESH_HINT_MS / 1000}s`
