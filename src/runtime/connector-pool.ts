import type { Clock } from '../internal/clock.ts'
import { createBackendConnector } from '../tls/backend-connector.ts'
import { PeerAuthorizer } from '../tls/peer-authorizer.ts'
import type { BackendConnector, BackendConnectorOptions, HandshakeEvent } from '../tls/connector-types.ts'
import type { TrustWithdrawnEvent } from '../tls/live-connections.ts'
import { newIdentity } from './routing-plan.ts'

/** Options of {@link createConnectorPool}. */
export interface ConnectorPoolOptions {
  /** Where the credentials of a managed identity (SPIFFE ID) come from; undefined = not loaded. */
  snapshotsFor (identity: string): BackendConnectorOptions['snapshots'] | undefined
  onHandshake (event: HandshakeEvent): void
  /** Each open connection a connector ended because trust in it was withdrawn (log it once, count it). */
  onTrustWithdrawn? (event: TrustWithdrawnEvent): void
  clock: Clock
}

/** The backend connectors of one process, reused across reloads. */
export interface ConnectorPool {
  /**
   * Returns the connector of `service` presenting `identity`: one per service (so each keeps
   * its own session-resumption setting and cache), kept across reloads while none of identity,
   * resumption and `allowedPeers` changes. A changed allow-list gets a new connector (new verdict
   * and session caches) and the old one of that service is closed: nothing verified or resumed
   * under the old list is reused, and the reload's new pools hold no old connection.
   * Throws `ERR_SPIFFE_SERVE_NEW_IDENTITY` when the identity's credentials are not loaded.
   */
  connect (service: string, identity: string, sessionResumption: boolean, groups?: readonly string[], allowedPeers?: readonly string[]): BackendConnector
  /** Closes every connector (stops following snapshots, drops cached sessions). */
  close (): void
}

/** Returns an empty {@link ConnectorPool}. */
export function createConnectorPool (options: ConnectorPoolOptions): ConnectorPool {
  const connectors = new Map<string, BackendConnector>()
  return {
    connect (service, identity, sessionResumption, groups, allowedPeers) {
      const snapshots = options.snapshotsFor(identity)
      if (snapshots === undefined) throw newIdentity(service, identity)
      const authorize = allowedPeers === undefined ? undefined : new PeerAuthorizer(allowedPeers)
      const base = `${service}\0${identity}\0${String(sessionResumption)}\0${groups?.join(':') ?? ''}\0`
      const key = `${base}${authorize?.key ?? '*'}`
      let connect = connectors.get(key)
      if (connect === undefined) {
        for (const [k, old] of connectors) {
          if (k.startsWith(base)) { old.close(); connectors.delete(k) }
        }
        connect = createBackendConnector({
          snapshots, sessionResumption, clock: options.clock, onHandshake: options.onHandshake,
          ...(options.onTrustWithdrawn === undefined ? {} : { onTrustWithdrawn: options.onTrustWithdrawn }),
          ...(groups === undefined ? {} : { groups }), ...(authorize === undefined ? {} : { authorize })
        })
        connectors.set(key, connect)
      }
      return connect
    },
    close () {
      for (const connect of connectors.values()) connect.close()
      connectors.clear()
    }
  }
}

/**
 * Writes the one log record of an open backend connection ended because trust was withdrawn:
 * a warning with the code, the precise rule, the endpoint and the backend's SPIFFE ID.
 */
export function logTrustWithdrawn (log: { warn (obj: object, msg: string): void }, e: TrustWithdrawnEvent): void {
  log.warn({ code: e.code, reason: e.reason, endpoint: e.endpoint, backendSpiffeId: e.peerId, error: e.message }, 'backend connection ended: trust withdrawn')
}
