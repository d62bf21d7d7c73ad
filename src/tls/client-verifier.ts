import type { X509Certificate } from 'node:crypto'
import { randomBytes } from 'node:crypto'
import type tls from 'node:tls'
import type { TLSSocket, TlsOptions } from 'node:tls'
import { systemClock, type Clock } from '../internal/clock.ts'
import { quote } from '../internal/errors.ts'
import { notifyAll } from '../internal/notify.ts'
import { certInfo } from '../spiffe/cert-info.ts'
import type { SpiffeIdPattern } from '../spiffe/id-pattern.ts'
import type { X509SnapshotSource } from '../spiffe/snapshot.ts'
import { SpiffeId } from '../spiffe/spiffe-id.ts'
import { checkTlsParameters, type TlsParameters } from './context-cache.ts'
import { reasonOf, tlsError, type TlsErrorCode } from './errors.ts'
import { PeerChainMemory, readPeerChain } from './peer-chain.ts'
import { recordPeer, type VerifiedPeer } from './peer-identity.ts'
import { serverTlsOptions } from './server-options.ts'
import { verifyPeer } from './verify-peer.ts'

/**
 * What an inbound listener learned about one client certificate: the facts the cloud's mTLS
 * custom header variables carry, and the verdict of the SPIFFE verification in the client role.
 */
export interface ClientVerdict {
  /** The client sent a certificate. */
  readonly present: boolean
  /** The chain verified against the bundle of the client's own trust domain (CRLs included). */
  readonly verified: boolean
  /** Verified, and `allowedPeers` (when set) admits the ID. */
  readonly allowed: boolean
  /** The cloud's error string (`client_cert_not_provided`, `client_cert_validation_failed`); '' when verified. */
  readonly error: string
  /** The precise rule: `ERR_SPIFFE_TLS_*` or the SPIFFE verification code; '' when allowed. */
  readonly code: string
  /** One line saying why, for the log and the 403 body; '' when allowed. */
  readonly message: string
  /** The one SPIFFE ID of the leaf's URI SANs, verified or not ('' when there is none or several). */
  readonly spiffeId: string
  /** The leaf's URI SANs other than its SPIFFE ID, and its DNS SANs. */
  readonly uriSans: readonly string[]
  readonly dnsNames: readonly string[]
  /** The trust domain of the verified peer ('' when not verified). */
  readonly trustDomain: string
  /** The chain as presented, leaf first (empty when no certificate). */
  readonly chain: readonly X509Certificate[]
  /** The verified peer (when verified). */
  readonly peer: VerifiedPeer | undefined
  /** Earliest notAfter (epoch ms) of the verified path; the verdict lapses then. */
  readonly expiresAt: number | undefined
}

/** Options of {@link createClientVerifier}. */
export interface ClientVerifierOptions extends TlsParameters {
  /** The listener's SVID (unless `certificate` is given) and the bundles and CRLs clients are verified against. */
  snapshots: X509SnapshotSource
  /** A static server certificate (files) presented instead of the snapshot's SVID. */
  certificate?: { cert: string | Buffer, key: string | Buffer }
  /** Verified client IDs let in; absent = any verified client. */
  allowedPeers?: readonly SpiffeIdPattern[]
  clock?: Clock
}

/** The SPIFFE side of an inbound mTLS listener; see {@link createClientVerifier}. */
export interface ClientVerifier {
  /** Returns the TLS server options: our certificate, a client certificate requested but not judged by OpenSSL. */
  serverOptions (): TlsOptions
  /**
   * Keeps `server` presenting the certificate in force (a new SVID generation, or a new static
   * certificate, installs a new SecureContext: handshakes in flight keep theirs) and rotates its
   * ticket keys on every trust change. Returns the function that stops following.
   */
  attach (server: tls.Server): () => void
  /** Returns the verdict on the client of a socket that completed its handshake (call once per socket). */
  verify (socket: TLSSocket, at: string): ClientVerdict
  /** Returns `verdict` judged again against the trust in force now (after a trust change or at expiry). */
  recheck (verdict: ClientVerdict, at: string): ClientVerdict
  /** Calls `listener` after each trust change (bundles or CRLs); returns the unsubscribe function. */
  onTrustChange (listener: () => void): () => void
  /** Replaces the static certificate (reloaded files). */
  setCertificate (certificate: { cert: string | Buffer, key: string | Buffer }): void
}

/**
 * Returns the verifier of an inbound listener: client X.509-SVIDs are verified like the backend
 * connector verifies backends, in the client role — the bundle of the client's own trust domain
 * from the same snapshot (never a pooled set of roots), its CRLs, one URI SAN, the leaf rules —
 * after the handshake, because Node offers no hook inside it (docs/architecture.md#security-model).
 * Throws `ERR_SPIFFE_TLS_BAD_PARAMETERS` for unusable TLS versions or groups.
 */
export function createClientVerifier (options: ClientVerifierOptions): ClientVerifier {
  checkTlsParameters(options)
  const { snapshots } = options
  const clock = options.clock ?? systemClock
  const memory = new PeerChainMemory()
  const trustListeners = new Set<() => void>()
  const servers = new Set<tls.Server>()
  let certificate = options.certificate

  const serverOptions = (): TlsOptions => {
    const base = serverTlsOptions(certificate === undefined ? snapshots.current() : undefined, options)
    return certificate === undefined ? base : { ...base, cert: certificate.cert, key: certificate.key }
  }
  const install = (): void => {
    for (const server of servers) {
      // A new certificate is no reason to end resumption: the ticket keys are carried over.
      const keys = server.getTicketKeys()
      server.setSecureContext(serverOptions())
      server.setTicketKeys(keys)
    }
  }

  let svidGeneration = snapshots.current()?.svidGeneration ?? -1
  let bundleGeneration = snapshots.current()?.bundleGeneration ?? -1
  const unsubscribe = snapshots.subscribe((snapshot) => {
    if (snapshot.svidGeneration !== svidGeneration && certificate === undefined) install()
    svidGeneration = snapshot.svidGeneration
    if (snapshot.bundleGeneration !== bundleGeneration) {
      bundleGeneration = snapshot.bundleGeneration
      // No ticket issued under the old trust may resume, and no chain remembered under it completes one.
      for (const server of servers) server.setTicketKeys(randomBytes(48))
      memory.clear()
      notifyAll(trustListeners, undefined, 'inbound trust change')
    }
  })

  const judge = (chain: readonly X509Certificate[], resumed: boolean, at: string): ClientVerdict => {
    const base = { present: chain.length > 0, chain, ...leafNames(chain[0]), peer: undefined, expiresAt: undefined, trustDomain: '' }
    const refuse = (err: unknown, error: string): ClientVerdict => ({
      ...base,
      verified: false,
      allowed: false,
      error,
      code: reasonOf(err, 'ERR_SPIFFE_TLS_PEER_REJECTED' satisfies TlsErrorCode),
      message: err instanceof Error ? err.message : String(err)
    })
    const snapshot = snapshots.current()
    if (snapshot === undefined) {
      return refuse(tlsError('ERR_SPIFFE_TLS_NO_CREDENTIALS', 'no trust bundles loaded yet: every client is refused', { at }), 'client_cert_validation_not_performed')
    }
    let verified
    try {
      verified = verifyPeer(chain, snapshot.bundles, 'client', clock.now(), at, resumed, snapshot.revocation)
    } catch (err) {
      return refuse(err, chain.length === 0 ? 'client_cert_not_provided' : 'client_cert_validation_failed')
    }
    memory.remember(chain)
    const peer: VerifiedPeer = { id: verified.id, chain, resumed }
    const ok = { ...base, verified: true, error: '', peer, spiffeId: verified.id.toString(), trustDomain: verified.id.trustDomain.name, expiresAt: Math.min(...verified.chain.map((c) => c.validToDate.getTime())) }
    const patterns = options.allowedPeers
    if (patterns !== undefined && !patterns.some((p) => p.matches(verified.id))) {
      return {
        ...ok,
        allowed: false,
        code: 'ERR_SPIFFE_TLS_PEER_NOT_ALLOWED' satisfies TlsErrorCode,
        message: `client ${quote(at)} with spiffe id ${quote(verified.id.toString())} is not in serverTlsPolicy.mtlsPolicy.allowedPeers (${patterns.map((p) => quote(p.toString())).join(', ')})`
      }
    }
    return { ...ok, allowed: true, code: '', message: '' }
  }

  return {
    serverOptions,
    attach (server) {
      servers.add(server)
      return () => {
        servers.delete(server)
        if (servers.size === 0) { unsubscribe(); trustListeners.clear() }
      }
    },
    verify (socket, at) {
      // A resumed server session restores only the client's leaf: complete it from memory.
      const chain = memory.complete(readPeerChain(socket))
      const verdict = judge(chain, socket.isSessionReused(), at)
      if (verdict.peer !== undefined) recordPeer(socket, verdict.peer)
      return verdict
    },
    recheck (verdict, at) {
      return judge(verdict.chain, verdict.peer?.resumed ?? false, at)
    },
    onTrustChange (listener) {
      trustListeners.add(listener)
      return () => { trustListeners.delete(listener) }
    },
    setCertificate (next) {
      certificate = next
      install()
    }
  }
}

/**
 * Returns the leaf's SANs: its SPIFFE ID when the URI SANs hold exactly one valid one (else ''),
 * the other URI SANs and the DNS names. A leaf that cannot be parsed has none.
 */
function leafNames (leaf: X509Certificate | undefined): { spiffeId: string, uriSans: string[], dnsNames: string[] } {
  const none = { spiffeId: '', uriSans: [], dnsNames: [] }
  if (leaf === undefined) return none
  try {
    const san = certInfo(leaf).san
    const spiffe = san.uris.filter((u) => u.toLowerCase().startsWith('spiffe://'))
    let spiffeId = ''
    try { spiffeId = spiffe.length === 1 && spiffe[0] !== undefined ? SpiffeId.fromString(spiffe[0]).toString() : '' } catch { /* not a valid id: '' */ }
    return { spiffeId, uriSans: san.uris.filter((u) => spiffeId === '' || u !== spiffeId), dnsNames: [...san.dnsNames] }
  } catch {
    return none
  }
}
