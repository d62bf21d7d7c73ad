import type { CredentialStore } from './store.ts'

/**
 * A place the proxy's credentials come from (docs/architecture.md#layers, `credentials/`): the local
 * issuer, a directory in the GCE guest-agent layout, or the GCE metadata server. A source
 * loads candidates into one {@link CredentialStore}, which validates and publishes them; the
 * source only decides when to look again (rotation timer, file watch, poll, back-off).
 */
export interface CredentialSource {
  /** Short name used in snapshots, errors and metrics (`issuer`, `directory`, `metadata`). */
  readonly name: string
  /**
   * The state of a long-lived connection to the source, for sources that hold one
   * (`workload-api`: `connecting`, `streaming`, `retrying`, `failed`, `stopped`); absent otherwise.
   */
  readonly connection?: string
  /**
   * Starts delivering into `store`. Resolves after the first attempt finished, whatever its
   * result (check `store.status()`); later attempts run in the background until {@link stop}.
   */
  start (store: CredentialStore): Promise<void>
  /** Makes one attempt now (SIGHUP, tests); resolves when it finished. */
  refresh (): Promise<void>
  /** Stops: clears every timer, closes watchers and connections; idempotent. */
  stop (): Promise<void>
}
