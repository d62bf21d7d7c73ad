import type { X509Certificate } from 'node:crypto'
import { certInfo, certLabel } from '../spiffe/cert-info.ts'
import type { PeerCertificateSummary, PeerRecord } from '../admin/peer-record.ts'
import type { HandshakeEvent } from '../tls/connector-types.ts'
import { PEER_LOG_SIZE } from '../defaults.ts'
import { Lru } from '../internal/lru.ts'

function summarize (cert: X509Certificate): PeerCertificateSummary {
  let spiffeId: string | undefined
  try { spiffeId = certInfo(cert).san.uris.find((u) => u.toLowerCase().startsWith('spiffe:')) } catch { spiffeId = undefined }
  return { subject: certLabel(cert), spiffeId, issuer: (cert.issuer as string | undefined ?? '').replaceAll('\n', ', '), notAfter: cert.validToDate.toISOString() }
}

/**
 * The last handshake verdict per backend endpoint, for the admin listener's `/debug/peers`
 * (read-only: fed by the connectors' `onHandshake` events). Bounded: the endpoint seen least
 * recently is dropped first. The chain summary is built when the page is read, not per handshake.
 */
export class PeerLog {
  readonly #last: Lru<string, { event: HandshakeEvent, at: number }>

  constructor (max = PEER_LOG_SIZE) { this.#last = new Lru(max) }

  /** Records `event`, seen at `at` (ms since the epoch). */
  record (event: HandshakeEvent, at: number): void {
    this.#last.set(event.endpoint, { event, at })
  }

  /** Returns the last verdict of every endpoint, sorted by endpoint. */
  view (): PeerRecord[] {
    return [...this.#last.values()].map(({ event: e, at }) => {
      const chain = (e.peerChain ?? []).map(summarize)
      return {
        endpoint: e.endpoint,
        verdict: e.result === 'ok' ? 'accept' : 'reject',
        reasons: e.result === 'ok' ? [] : [e.result],
        message: e.result === 'ok' ? undefined : e.message,
        spiffeId: e.peerId ?? chain[0]?.spiffeId,
        chain,
        resumed: e.resumed,
        seenAt: new Date(at).toISOString()
      } satisfies PeerRecord
    }).sort((a, b) => a.endpoint.localeCompare(b.endpoint))
  }
}
