import type { X509Certificate } from 'node:crypto'
import { certInfo, certLabel } from '../spiffe/cert-info.ts'
import type { PeerCertificateSummary, PeerRecord } from '../admin/peer-record.ts'
import type { HandshakeEvent } from '../tls/connector-types.ts'
import type { ClientVerdict } from '../tls/client-verifier.ts'
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
  readonly #last: Lru<string, { event: HandshakeEvent, at: number, inbound?: true }>

  constructor (max = PEER_LOG_SIZE) { this.#last = new Lru(max) }

  /** Records `event`, seen at `at` (ms since the epoch); `inbound` marks a client of the inbound listener. */
  record (event: HandshakeEvent, at: number, inbound?: true): void {
    this.#last.set(event.endpoint, { event, at, ...(inbound === undefined ? {} : { inbound }) })
  }

  /** Records the inbound listener's verdict on a client (`address:port`), kept per client address. */
  recordInbound (client: string, v: ClientVerdict, at: number): void {
    const ip = client.slice(0, client.lastIndexOf(':'))
    this.record({
      endpoint: `inbound ${ip}`,
      result: v.allowed ? 'ok' : v.code,
      resumed: v.peer?.resumed ?? false,
      durationMs: 0,
      peerChain: v.chain,
      ...(v.verified ? { trustDomain: v.trustDomain, peerId: v.spiffeId } : {}),
      ...(v.allowed ? {} : { message: v.message })
    }, at, true)
  }

  /** Returns the last verdict of every endpoint, sorted by endpoint. */
  view (): PeerRecord[] {
    return [...this.#last.values()].map(({ event: e, at, inbound }) => {
      const chain = (e.peerChain ?? []).map(summarize)
      return {
        endpoint: e.endpoint,
        verdict: e.result === 'ok' ? 'accept' : 'reject',
        reasons: e.result === 'ok' ? [] : [e.result],
        message: e.result === 'ok' ? undefined : e.message,
        spiffeId: e.peerId ?? chain[0]?.spiffeId,
        chain,
        resumed: e.resumed,
        seenAt: new Date(at).toISOString(),
        ...(inbound === undefined ? {} : { direction: 'inbound' as const })
      } satisfies PeerRecord
    }).sort((a, b) => a.endpoint.localeCompare(b.endpoint))
  }
}
