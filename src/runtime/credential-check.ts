import type { SpiffeLbConfig } from '../config/types.ts'
import type { CredentialSource } from '../credentials/credential-source.ts'
import { CredentialStore } from '../credentials/store.ts'
import { CREDENTIALS_ERROR } from '../credentials/errors.ts'
import { toCredentialError, type CredentialError } from '../credentials/outcome.ts'
import { CHECK_CREDENTIALS_TIMEOUT_MS } from '../defaults.ts'
import { systemClock } from '../internal/clock.ts'
import { configuredTrust, createCredentialSource, identitiesOf, revocationInputs } from './credentials-wiring.ts'

/** What `serve --check` found for one identity's credentials. */
export interface CredentialCheck {
  identity: string
  /**
   * `ok`: the source delivered credentials `serve` puts in force; `refused`: `serve` would refuse
   * them (or could not start the source), `error` says why; `unreachable`: the source did not
   * answer within the check's timeout (it may come up later), `error` says what happened;
   * `skipped`: the local issuer signs at start, nothing to read.
   */
  result: 'ok' | 'refused' | 'unreachable' | 'skipped'
  error?: CredentialError
  /** Warnings on credentials that are put in force (a configured trust domain the source overrode). */
  warnings: CredentialError[]
}

// Codes meaning "nobody answered": the source is down or not there yet, not wrong.
const UNREACHABLE = new Set<string>([CREDENTIALS_ERROR.METADATA_UNREACHABLE, CREDENTIALS_ERROR.WORKLOAD_API_UNAVAILABLE])

/**
 * Reads each identity's delivering credential source once, as `serve` starts it (same source,
 * same store rules, the configured inline trust merged in), waiting at most `timeoutMs`, and
 * returns what `serve` would do with the result. Bundle endpoints are not fetched here.
 */
export async function checkCredentials (config: SpiffeLbConfig, timeoutMs = CHECK_CREDENTIALS_TIMEOUT_MS): Promise<CredentialCheck[]> {
  const out: CredentialCheck[] = []
  for (const { identity, services } of identitiesOf(config)) {
    const name = identity.toString()
    if (config.credentials.source === 'issuer') {
      out.push({ identity: name, result: 'skipped', warnings: [] })
      continue
    }
    const store = new CredentialStore({ identity, clock: systemClock, additionalTrustBundles: configuredTrust(config, identity).additionalTrustBundles })
    let source: CredentialSource
    try {
      source = await createCredentialSource(config, identity, services, systemClock, [])
    } catch (err) {
      out.push({ identity: name, result: 'refused', error: toCredentialError(err, config.credentials.source, Date.now()), warnings: [] })
      continue
    }
    let timer: NodeJS.Timeout | undefined
    try {
      const started = source.start(store).then(() => true, () => true)
      const late = new Promise<boolean>((resolve) => { timer = setTimeout(() => { resolve(false) }, timeoutMs) })
      await Promise.race([started, late])
    } finally {
      clearTimeout(timer)
      await source.stop()
    }
    let error = store.lastError
    // serve refuses to start on a configured CRL it cannot read or verify: so does the check.
    const inputs = revocationInputs(config, [])
    if (store.current() !== undefined && error === undefined && inputs.length > 0) {
      const { RevocationFeed } = await import('../credentials/revocation-feed.ts')
      try {
        await new RevocationFeed(inputs, store, { clock: systemClock }).load()
      } catch (err) {
        error = toCredentialError(err, 'revocation', Date.now())
      }
    }
    if (store.current() !== undefined && error === undefined) {
      out.push({ identity: name, result: 'ok', warnings: [...store.warnings] })
    } else if (error === undefined || UNREACHABLE.has(error.code)) {
      out.push({ identity: name, result: 'unreachable', ...(error === undefined ? {} : { error }), warnings: [] })
    } else {
      out.push({ identity: name, result: 'refused', error, warnings: [] })
    }
  }
  return out
}
