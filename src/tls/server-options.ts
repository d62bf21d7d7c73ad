import { randomBytes } from 'node:crypto'
import tls from 'node:tls'
import type { TLSSocket, TlsOptions } from 'node:tls'
import { SpiffeLbError } from '../internal/errors.ts'
import { systemClock } from '../internal/clock.ts'
import type { Clock } from '../internal/clock.ts'
import type { SpiffeId } from '../spiffe/spiffe-id.ts'
import type { TrustDomain } from '../spiffe/trust-domain.ts'
import type { X509Snapshot, X509SnapshotSource } from '../spiffe/snapshot.ts'
import { checkTlsParameters, contextOptions } from './context-cache.ts'
import type { TlsParameters } from './context-cache.ts'
import { reasonOf, tlsError, type TlsErrorCode } from './errors.ts'
import { PeerChainMemory, readPeerChain } from './peer-chain.ts'
import { recordPeer } from './peer-identity.ts'
import type { VerifiedPeer } from './peer-identity.ts'
import { checkAllowed, verifyPeer } from './verify-peer.ts'
import { formatHostPort } from '../internal/host-port.ts'

/** Why a client was turned away (logged by test backends). */
export interface RejectEvent {
  /** `address:port` of the client. */
  remote: string
  /** `ERR_SPIFFE_TLS_*`: PEER_REJECTED, PEER_NOT_ALLOWED, NO_PEER_CERTIFICATE, HANDSHAKE_FAILED, … */
  code: string
  /** The precise rule: the SPIFFE verification code for PEER_REJECTED, else equal to `code`. */
  reason: string
  message: string
  resumed: boolean
}

/** Options of {@link createSpiffeTlsServer}. */
export interface SpiffeTlsServerOptions extends TlsParameters {
  /** The server's own SVID and the bundles client SVIDs are verified against. */
  snapshots: X509SnapshotSource
  /** Client IDs allowed in; together with `allowTrustDomains` a union. Empty: any verified ID. */
  allowIds?: readonly SpiffeId[]
  /** Client trust domains allowed in (the bundle of the domain must be loaded as well). */
  allowTrustDomains?: readonly TrustDomain[]
  clock?: Clock
  /** Called for each verified client, after the handshake and before any byte is read. */
  onConnection?: (socket: TLSSocket, peer: VerifiedPeer) => void
  /** Called for each refused client, before its socket is destroyed. */
  onReject?: (event: RejectEvent) => void
  /** ALPN protocols the server selects from, in its order of preference; default none. */
  alpnProtocols?: string[]
}

/**
 * Returns the `tls.createServer` options of a SPIFFE mTLS server presenting `snapshot`'s SVID:
 * a client certificate is requested but OpenSSL does not judge it (`rejectUnauthorized: false`,
 * empty CA store); {@link createSpiffeTlsServer} verifies it per trust domain instead.
 */
export function serverTlsOptions (snapshot: X509Snapshot | undefined, params: TlsParameters = {}): TlsOptions {
  const base: TlsOptions = snapshot === undefined
    ? { ca: [], minVersion: params.minVersion ?? 'TLSv1.2', maxVersion: params.maxVersion ?? 'TLSv1.3' }
    : contextOptions(snapshot, params)
  return { ...base, requestCert: true, rejectUnauthorized: false }
}

/**
 * Returns a TLS server for test backends that requires a client X.509-SVID and verifies it like
 * the backend connector does (`role: 'client'`, the bundle of the client's own trust domain),
 * then applies the allow-lists. Only verified sockets reach `onConnection`.
 *
 * Rejection approach: the handshake completes, then the server records why (`onReject`) and
 * destroys the socket before reading a byte. Aborting inside the handshake would need OpenSSL to
 * verify against one merged CA list (forbidden as the only check, docs/architecture.md#security-model), and Node
 * then drops the socket without telling us why, so the backend could not log the reason.
 *
 * The server follows its snapshot source: a new SVID generation installs a new SecureContext
 * (`setSecureContext`); a new bundle generation rotates the session-ticket keys, so no ticket
 * issued under the old trust can be resumed. Resumed sessions are re-verified anyway. The
 * subscription ends when the server closes.
 */
export function createSpiffeTlsServer (options: SpiffeTlsServerOptions): tls.Server {
  checkTlsParameters(options)
  const { snapshots, onConnection, onReject } = options
  const clock = options.clock ?? systemClock
  const memory = new PeerChainMemory()
  const server = tls.createServer({
    ...serverTlsOptions(snapshots.current(), options),
    ...(options.alpnProtocols === undefined ? {} : { ALPNProtocols: options.alpnProtocols })
  })

  let svidGeneration = snapshots.current()?.svidGeneration ?? -1
  let bundleGeneration = snapshots.current()?.bundleGeneration ?? -1
  const unsubscribe = snapshots.subscribe((snapshot) => {
    if (snapshot.svidGeneration !== svidGeneration) {
      // setSecureContext would also start fresh ticket keys; a rotation of our own SVID is no
      // reason to cut off resumption, so the keys are carried over (trust changes rotate them).
      const keys = server.getTicketKeys()
      server.setSecureContext(serverTlsOptions(snapshot, options))
      server.setTicketKeys(keys)
      svidGeneration = snapshot.svidGeneration
    }
    if (snapshot.bundleGeneration !== bundleGeneration) {
      server.setTicketKeys(randomBytes(48))
      memory.clear()
      bundleGeneration = snapshot.bundleGeneration
    }
  })
  server.once('close', unsubscribe)

  const reject = (socket: TLSSocket, remote: string, err: unknown, resumed: boolean): void => {
    const code = err instanceof SpiffeLbError ? err.code : 'ERR_SPIFFE_TLS_PEER_REJECTED' satisfies TlsErrorCode
    const message = err instanceof Error ? err.message : String(err)
    onReject?.({ remote, code, reason: reasonOf(err, code), message, resumed })
    socket.destroy()
  }

  server.on('secureConnection', (socket: TLSSocket) => {
    const remote = formatHostPort(socket.remoteAddress ?? '?', socket.remotePort ?? 0)
    const resumed = socket.isSessionReused()
    try {
      const snapshot = snapshots.current()
      if (snapshot === undefined) {
        throw tlsError('ERR_SPIFFE_TLS_NO_CREDENTIALS', 'no trust bundles loaded yet: every client is refused', { at: remote })
      }
      // A resumed server session restores only the client's leaf: complete it from memory.
      const chain = memory.complete(readPeerChain(socket))
      const verified = verifyPeer(chain, snapshot.bundles, 'client', clock.now(), remote, resumed, snapshot.revocation)
      checkAllowed(verified.id, remote, options.allowIds, options.allowTrustDomains)
      memory.remember(chain)
      const peer: VerifiedPeer = { id: verified.id, chain, resumed }
      recordPeer(socket, peer)
      onConnection?.(socket, peer)
    } catch (err) {
      reject(socket, remote, err, resumed)
    }
  })
  server.on('tlsClientError', (err: Error & { code?: string }, socket: TLSSocket) => {
    const remote = formatHostPort(socket.remoteAddress ?? '?', socket.remotePort ?? 0)
    socket.destroy()
    onReject?.({ remote, code: 'ERR_SPIFFE_TLS_HANDSHAKE_FAILED' satisfies TlsErrorCode, reason: err.code ?? 'ERR_SPIFFE_TLS_HANDSHAKE_FAILED' satisfies TlsErrorCode, message: err.message, resumed: false })
  })
  return server
}
