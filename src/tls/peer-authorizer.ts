import { quote } from '../internal/errors.ts'
import { SpiffeIdPattern } from '../spiffe/id-pattern.ts'
import type { SpiffeId } from '../spiffe/spiffe-id.ts'
import { TLS_ERROR, TlsPeerRejectedError } from './errors.ts'

/**
 * Which verified peers a backend service accepts (`authorization.allowedPeers`, an extension of
 * the cloud model): any of the patterns. Without an authorizer any valid SVID of a trusted domain
 * is accepted, as in the cloud. `key` is canonical (sorted, deduplicated patterns): the connector
 * pool keys connectors by it, so a changed list gets a new connector, with its own verdict and
 * session caches, and nothing pooled or resumed under the old list is used again.
 */
export class PeerAuthorizer {
  readonly patterns: readonly SpiffeIdPattern[]
  readonly key: string

  constructor (patterns: ReadonlyArray<SpiffeIdPattern | string>) {
    const parsed = patterns.map((p) => typeof p === 'string' ? SpiffeIdPattern.parse(p) : p)
    this.patterns = parsed
    this.key = [...new Set(parsed.map(String))].sort().join(' ')
  }

  /** Returns the rejection of `id` at `endpoint`, or undefined when a pattern admits it. */
  deny (id: SpiffeId, endpoint: string): TlsPeerRejectedError | undefined {
    if (this.patterns.some((p) => p.matches(id))) return undefined
    return new TlsPeerRejectedError(TLS_ERROR.PEER_NOT_ALLOWED, TLS_ERROR.PEER_NOT_ALLOWED,
      `backend ${quote(endpoint)} with spiffe id ${quote(id.toString())} is not in authorization.allowedPeers (${this.patterns.map((p) => quote(p.toString())).join(', ')})`,
      { at: endpoint })
  }
}
