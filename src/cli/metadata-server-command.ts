import type { Command } from 'commander'
import { findManagedIdentity } from '../config/attestation.ts'
import { loadConfigFile } from '../config/index.ts'
import { parseDuration, parseHostPort } from '../config/values.ts'
import { createMetadataServer, type MetadataServer } from '../control/metadata-server.ts'
import { firstManagedIdentity, openPoolIssuance, poolTrustAnchors } from '../control/pool-issuance.ts'
import { systemClock, type Clock } from '../internal/clock.ts'
import { SpiffeLbError, quote } from '../internal/errors.ts'
import { issueSvidCertificate } from '../pki/index.ts'
import type { CommandOutput } from './config-check.ts'
import { writeIssues } from './config-check.ts'
import { EXIT } from './program.ts'

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
    throw new SpiffeLbError('ERR_SPIFFE_CLI_IDENTITY',
      opts.identity === undefined ? 'the config defines no managed identity' : `--identity ${quote(opts.identity)} is not a managed identity of the config`,
      { at: '--identity' })
  }
  const { pool, cic, ca } = await openPoolIssuance(config, identity, { ...(opts.state === undefined ? {} : { stateDir: opts.state }), clock })
  const lifetimeMs = opts.lifetime === undefined ? cic.lifetimeMs : lifetimeFlag(opts.lifetime)
  const listen = parseHostPort(opts.listen, 'ERR_SPIFFE_CLI_LISTEN', 0)
  const anchors = poolTrustAnchors(pool, ca)
  const server = await createMetadataServer({
    listen,
    identity: identity.toString(),
    issue: async (p) => await issueSvidCertificate(ca, { uri: identity.toString(), keyAlgorithm: cic.keyAlgorithm, ...p }),
    trustAnchors: () => anchors,
    rotation: { lifetimeMs, rotationWindowPercentage: cic.rotationWindowPercentage },
    clock,
    onError: (err) => { out.stderr.write(`spiffe-lb metadata-server: issuance failed, retrying: ${String(err)}\n`) }
  })
  out.stdout.write(`metadata server listening on ${server.url} for ${identity.toString()} ` +
    `(lifetime ${lifetimeMs / 1000}s, rotation at ${cic.rotationWindowPercentage}%, trust domains: ${[...anchors.keys()].join(', ')})\n`)
  return server
}

function lifetimeFlag (value: string): number {
  let ms = 0
  try { ms = parseDuration(value) } catch {}
  if (ms < 2000) {
    throw new SpiffeLbError('ERR_SPIFFE_CLI_LIFETIME', `--lifetime must be seconds with an "s" suffix, at least "2s", got ${quote(value)}`, { at: '--lifetime' })
  }
  return ms
}

/** Registers `spiffe-lb metadata-server`. */
export function registerMetadataServerCommand (program: Command): void {
  program.command('metadata-server')
    .description('an emulated GCE metadata server: …/gce-workload-certificates/{workload-identities,trust-anchors,config-status}')
    .requiredOption('-c, --config <file>', 'config file (YAML or JSON)')
    .option('--listen <host:port>', 'address to listen on (port 0 picks a free port)', '127.0.0.1:8181')
    .option('--identity <id>', 'managed identity to serve (//… or spiffe://…); default: the first in the config')
    .option('--state <dir>', 'control plane state directory (CA keys); default: the config\'s credentials.stateDir')
    .option('--lifetime <duration>', 'override the CIC lifetime, e.g. 60s, to see rotations quickly')
    .action(async (opts: MetadataServerCommandOptions) => {
      const out = { stdout: process.stdout, stderr: process.stderr }
      const started = await startMetadataServerCommand(opts, out)
      if (typeof started === 'number') { process.exitCode = started; return }
      const signal = await new Promise<NodeJS.Signals>((resolve) => {
        const stop = (sig: NodeJS.Signals): void => { process.off('SIGTERM', stop); process.off('SIGINT', stop); resolve(sig) }
        process.on('SIGTERM', stop)
        process.on('SIGINT', stop)
      })
      out.stderr.write(`spiffe-lb metadata-server: ${signal}, stopping\n`)
      await started.close()
      process.exitCode = EXIT.OK
    })
}
