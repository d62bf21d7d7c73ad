import { findManagedIdentity } from '../config/attestation.ts'
import { loadConfigFile } from '../config/index.ts'
import { parseHostPort } from '../internal/host-port.ts'
import { createMetadataServer, type MetadataServer } from '../control/metadata-server.ts'
import { firstManagedIdentity } from '../control/pool-issuance.ts'
import { systemClock, type Clock } from '../internal/clock.ts'
import { quote } from '../internal/errors.ts'
import type { CommandOutput } from '../process/command-output.ts'
import { writeIssues } from '../runtime/config-check.ts'
import { EXIT } from '../process/command-output.ts'
import { commandLogger, lifecycle } from '../process/command-log.ts'
import { cliError } from '../process/errors.ts'
import { issuanceSummary, openIdentityIssuance } from './identity-issuance.ts'

/** Options of `spiffe-lb metadata-server`, as commander parses them. */
export interface MetadataServerCommandOptions {
  config: string
  listen: string
  identity?: string
  state?: string
  /** Overrides the CIC lifetime (e.g. `60s`), to watch rotations happen in a demo or test. */
  lifetime?: string
}

/**
 * Starts the emulated GCE metadata server for a config: the identity (default the config's first
 * managed identity) is issued by the local CA of its pool's CIC and rotated per that CIC; trust
 * anchors are the CA's root plus the pool's additionalTrustBundles. Returns the running server,
 * or an exit code after printing why it could not start.
 */
export async function startMetadataServerCommand (opts: MetadataServerCommandOptions, out: CommandOutput, clock: Clock = systemClock): Promise<MetadataServer | number> {
  const loaded = await loadConfigFile(opts.config)
  if (!loaded.ok) {
    writeIssues(opts.config, loaded.errors, out)
    return EXIT.USAGE
  }
  const config = loaded.config
  const identity = opts.identity === undefined
    ? firstManagedIdentity(config)
    : findManagedIdentity(config, opts.identity)?.identity.spiffeId
  if (identity === undefined) {
    throw cliError('ERR_SPIFFE_CLI_IDENTITY',
      opts.identity === undefined ? 'the config defines no managed identity' : `--identity ${quote(opts.identity)} is not a managed identity of the config`,
      { at: '--identity' })
  }
  const listen = parseHostPort(opts.listen, 'ERR_SPIFFE_CLI_LISTEN', 0, cliError)
  const log = commandLogger(out)
  const issuance = await openIdentityIssuance(config, identity, opts, clock, log)
  const server = await createMetadataServer({
    listen,
    identity: identity.toString(),
    issue: issuance.issue,
    trustAnchors: () => issuance.anchors,
    rotation: issuance.rotation,
    clock,
    onError: (err) => { log.warn({ err }, `issuance failed, retrying: ${String(err)}`) }
  })
  lifecycle(log).info({ url: server.url, identity: identity.toString() }, `metadata server listening on ${server.url} for ${identity.toString()} ${issuanceSummary(issuance)}`)
  return server
}

