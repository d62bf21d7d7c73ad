import { backendServiceResource, checkAttestation, findManagedIdentity } from '../config/attestation.ts'
import { loadConfigFile } from '../config/index.ts'
import { parseWorkloadApiEndpoint } from '../credentials/workload-api-endpoint.ts'
import { createWorkloadApiServer, type WorkloadApiServer } from '../control/workload-api-server.ts'
import { systemClock, type Clock } from '../internal/clock.ts'
import { quote } from '../internal/errors.ts'
import type { CommandOutput } from '../process/command-output.ts'
import { writeIssues } from '../runtime/config-check.ts'
import { EXIT } from '../process/command-output.ts'
import { commandLogger, lifecycle } from '../process/command-log.ts'
import { cliError } from '../process/errors.ts'
import { issuanceSummary, openIdentityIssuance } from './identity-issuance.ts'
import { readFileSync, watch } from 'node:fs'
import { basename, dirname } from 'node:path'
import { parsePem } from '../internal/pem.ts'

/** Options of `spiffe-lb workload-api`, as commander parses them. */
export interface WorkloadApiCommandOptions {
  config: string
  listen: string
  identity: string
  /** The `googleCloudResource` attested before each issuance; default: a backend service presenting the identity. */
  resource?: string
  state?: string
  /** Overrides the CIC lifetime (e.g. `60s`), to watch rotations happen. */
  lifetime?: string
  /** Octal mode of the Unix socket (default 600), whatever the umask. */
  socketMode?: string
}

/**
 * Returns the mode `--socket-mode` names: three octal digits, a leading 0 allowed (`600`,
 * `0660`). Throws `ERR_SPIFFE_CLI_SOCKET_MODE` otherwise.
 */
export function parseSocketMode (value: string): number {
  if (!/^0?[0-7]{3}$/.test(value)) {
    throw cliError('ERR_SPIFFE_CLI_SOCKET_MODE', `--socket-mode must be an octal mode like 600 or 0660, got ${quote(value)}`, { at: '--socket-mode' })
  }
  return parseInt(value, 8)
}

/**
 * Starts a SPIFFE Workload API server for one managed identity of a config: issued by the local
 * CA of its pool's CIC after the attestation rules admit `--resource`, rotated per the CIC, with
 * the pool's bundle and its additionalTrustBundles as federated bundles. Returns the running
 * server, or an exit code after printing why it could not start.
 */
export async function startWorkloadApiCommand (opts: WorkloadApiCommandOptions, out: CommandOutput, clock: Clock = systemClock): Promise<WorkloadApiServer | number> {
  const loaded = await loadConfigFile(opts.config)
  if (!loaded.ok) {
    writeIssues(opts.config, loaded.errors, out)
    return EXIT.USAGE
  }
  const config = loaded.config
  const identity = findManagedIdentity(config, opts.identity)?.identity.spiffeId
  if (identity === undefined) {
    throw cliError('ERR_SPIFFE_CLI_IDENTITY', `--identity ${quote(opts.identity)} is not a managed identity of the config`, { at: '--identity' })
  }
  const service = config.backendServices.find((s) => s.tlsSettings.identity?.spiffeId.equals(identity) === true)
  const resource = opts.resource ?? (service === undefined ? undefined : backendServiceResource(config.project?.number ?? '', service.name))
  if (resource === undefined) {
    throw cliError('ERR_SPIFFE_CLI_RESOURCE',
      `no backend service presents ${quote(identity.toString())}: pass --resource with the googleCloudResource to attest`, { at: '--resource' })
  }
  checkAttestation(config, identity, resource)
  const listen = parseWorkloadApiEndpoint(opts.listen, '--listen')
  const socketMode = opts.socketMode === undefined ? undefined : parseSocketMode(opts.socketMode)
  if (socketMode !== undefined && listen.kind !== 'unix') {
    throw cliError('ERR_SPIFFE_CLI_SOCKET_MODE', `--socket-mode applies to a unix socket, but --listen is ${quote(opts.listen)}`, { at: '--socket-mode' })
  }
  const log = commandLogger(out)
  const issuance = await openIdentityIssuance(config, identity, opts, clock, log)
  const server = await createWorkloadApiServer({
    listen,
    ...(socketMode === undefined ? {} : { socketMode }),
    identity: identity.toString(),
    trustDomain: issuance.trustDomain,
    issue: async (p) => {
      // The attestation policy is checked at every issuance, as the issuer source does.
      checkAttestation(config, identity, resource)
      return await issuance.issue(p)
    },
    trustAnchors: () => issuance.anchors,
    // The pool's CRL (`ca revoke`) goes in every message, as a SPIRE agent sends its CRLs.
    crls: () => poolCrls(issuance.crlFile),
    rotation: issuance.rotation,
    clock,
    onError: (err) => { log.warn({ err }, `issuance failed, retrying: ${String(err)}`) }
  })
  // A new CRL is pushed at once on every open stream, not only at the next rotation.
  const watcher = watch(dirname(issuance.crlFile), { persistent: false }, (_e, name) => {
    if (name === null || name === basename(issuance.crlFile)) server.pushNow()
  })
  watcher.on('error', () => {})
  lifecycle(log).info({ address: server.address, identity: identity.toString() }, `workload api listening on ${server.address} for ${identity.toString()} ${issuanceSummary(issuance)}`)
  return { ...server, get serial () { return server.serial }, get streams () { return server.streams }, get nextRotationAt () { return server.nextRotationAt }, close: async () => { watcher.close(); await server.close() } }
}

/** Returns the DER CRLs of the pool's CRL file, none while it does not exist or does not parse as PEM. */
function poolCrls (file: string): Buffer[] {
  let text: string
  try { text = readFileSync(file, 'latin1') } catch { return [] }
  try { return parsePem(text, file).filter((b) => b.type === 'X509 CRL').map((b) => b.der) } catch { return [] }
}

