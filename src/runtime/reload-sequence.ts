import type { Logger } from 'pino'
import { reloadConfig } from '../config/reload.ts'
import type { SpiffeLbConfig } from '../config/types.ts'
import type { Clock } from '../internal/clock.ts'
import { prepareRevocation, type IdentityCredentials } from './credentials-wiring.ts'
import { applyTrustBundles } from './owned-credentials.ts'
import { refusedReload, type ServerReload } from './wiring.ts'

/** What a reload works on: the config in force and the credentials it feeds. */
export interface ReloadContext {
  running: SpiffeLbConfig
  credentials: readonly IdentityCredentials[]
  clock: Clock
  log: Logger
}

/** How one process model makes a checked config's routing take effect (or refuses it). */
export interface ReloadSteps {
  /** Swaps the routing in; returns a refusal to keep the running config, undefined when it took effect. */
  route: (config: SpiffeLbConfig) => Promise<ServerReload | undefined>
  /** Runs once the new trust and CRLs are published (the config is in force from then on). */
  committed?: (config: SpiffeLbConfig) => Promise<void>
}

/**
 * The one reload sequence of every process model: read and check the config file again, read
 * its CRLs, swap the routing in, then publish the trust bundles and CRLs. Any refusal before
 * the publishing leaves the running config and credentials in force. Returns the answer and,
 * when it took effect, the config now in force.
 */
export async function reloadSequence (ctx: ReloadContext, steps: ReloadSteps): Promise<{ reload: ServerReload, config?: SpiffeLbConfig }> {
  const result = await reloadConfig(ctx.running, { file: ctx.running.source })
  if (!result.ok) return { reload: { ok: false, errors: result.errors } }
  let commitRevocation: () => void
  try {
    commitRevocation = await prepareRevocation(ctx.credentials, result.config, ctx.clock, (message) => { ctx.log.warn({ warning: message }, 'certificate revocation list') })
  } catch (err) {
    return { reload: refusedReload(err) }
  }
  try {
    const refused = await steps.route(result.config)
    if (refused !== undefined) return { reload: refused }
  } catch (err) {
    return { reload: refusedReload(err) }
  }
  await applyTrustBundles(ctx.credentials, result.config)
  commitRevocation()
  await steps.committed?.(result.config)
  return { reload: { ok: true, changes: result.changes }, config: result.config }
}
