// The shape of `/debug/peers`: the admin listener serves what the runtime records (runtime/peer-log.ts).

/** One certificate of a peer's chain, as `/debug/peers` shows it. */
export interface PeerCertificateSummary {
  subject: string
  spiffeId: string | undefined
  issuer: string
  notAfter: string
}

/** The last verdict on one backend endpoint, or on one client address of the inbound listener. */
export interface PeerRecord {
  endpoint: string
  /** `accept`, or `reject` with the rule in `reasons`. */
  verdict: 'accept' | 'reject'
  /** The stable reason codes (the handshake metric's `result` when rejected). */
  reasons: string[]
  /** One line saying why, when rejected. */
  message: string | undefined
  spiffeId: string | undefined
  chain: PeerCertificateSummary[]
  resumed: boolean
  /** ISO 8601 time of the handshake. */
  seenAt: string
  /** `inbound`: a client of the inbound mTLS listener (endpoint `inbound IP`); absent for backends. */
  direction?: 'inbound'
  /** With `serve --workers N`: the worker whose handshake this was. */
  worker?: string
}
