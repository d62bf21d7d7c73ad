import { isIP } from 'node:net'
import tls from 'node:tls'
import type { X509Certificate } from 'node:crypto'
import { quote } from '../internal/errors.ts'
import { systemClock } from '../internal/clock.ts'
import type { X509Snapshot } from '../spiffe/snapshot.ts'
import { earliestNextUpdate } from '../spiffe/revocation.ts'
import { SecureContextCache, checkTlsParameters } from './context-cache.ts'
import { watchCredentialChanges } from './credential-changes.ts'
import type { BackendConnector, BackendConnectorOptions, ConnectCallback, ConnectOptions, HandshakeEvent } from './connector-types.ts'
import { explainRefusal } from './refusal.ts'
import { reasonOf, tlsError, type TlsErrorCode } from './errors.ts'
import { readPeerChain } from './peer-chain.ts'
import { recordPeer } from './peer-identity.ts'
import { SessionCache } from './session-cache.ts'
import { withoutPeerCertificate } from './session-peer.ts'
import type { CachedSession } from './session-cache.ts'
import { usableSnapshot, verifyPeer } from './verify-peer.ts'
import { VerifiedPeers } from './verified-peers.ts'
import { LiveConnections, followTrust } from './live-connections.ts'
import { DEFAULT_BACKEND_GROUPS, HANDSHAKE_TIMEOUT_MS, MAX_CACHED_SESSIONS, SESSION_REFRESH_MS } from '../defaults.ts'
import { formatHostPort } from '../internal/host-port.ts'

export type { BackendConnector, BackendConnectorOptions, ConnectCallback, ConnectOptions, HandshakeEvent } from './connector-types.ts'


/**
 * Returns an undici `connect` function (`new Agent({ connect })`) that opens TCP + TLS to a
 * backend, presents the current X.509-SVID as client certificate, and hands the socket to undici
 * only after the backend's SVID verified against the bundle of the backend's OWN trust domain
 * (`role: 'server'`, docs/architecture.md#security-model). OpenSSL verification is off (`rejectUnauthorized:
 * false`, empty CA store): one pooled `ca:` list would let domain B vouch for domain A. A rejected
 * backend gets no application byte: the socket is destroyed and the callback receives
 * `ERR_SPIFFE_TLS_PEER_REJECTED` with the rule in `reason` (`ERR_SPIFFE_TLS_PEER_NOT_ALLOWED` when
 * `authorize` does not admit its ID). The protocol is always TLS.
 * Throws `ERR_SPIFFE_TLS_BAD_PARAMETERS` for unusable versions or groups.
 */
export function createBackendConnector (options: BackendConnectorOptions): BackendConnector {
  const params = { ...options, groups: options.groups !== undefined && options.groups.length > 0 ? options.groups : DEFAULT_BACKEND_GROUPS }
  checkTlsParameters(params)
  const { snapshots, onHandshake, onTrustWithdrawn } = options
  const clock = options.clock ?? systemClock
  const resumption = options.sessionResumption ?? true
  const timeoutMs = options.handshakeTimeoutMs ?? HANDSHAKE_TIMEOUT_MS
  const alpn = options.alpnProtocols ?? ['http/1.1']
  const contexts = new SecureContextCache(params, options.createSecureContext)
  const sessions = new SessionCache(options.maxCachedSessions ?? MAX_CACHED_SESSIONS)
  const verdicts = new VerifiedPeers()
  const live = new LiveConnections()

  // Rotation and trust changes are handled here, off the hot path: build the new context once
  // and drop sessions made under older generations.
  const prepare = (snapshot: X509Snapshot): void => {
    sessions.advance(snapshot.svidGeneration, snapshot.bundleGeneration)
    verdicts.clear()
    try { contexts.get(snapshot) } catch { /* reported by the next connect as NO_CREDENTIALS */ }
  }
  const unsubscribe = snapshots.subscribe(prepare)
  const first = snapshots.current()
  if (first !== undefined) prepare(first)
  // Pools built on this connector follow it to retire connections made under older credentials.
  const changes = watchCredentialChanges(snapshots, clock)
  // Open connections follow trust too, not only the pooled idle ones.
  const unfollow = followTrust(live, snapshots, changes, clock, (e) => { onTrustWithdrawn?.(e) })

  const connect = (opts: ConnectOptions, callback: ConnectCallback): void => {
    // Durations use the monotonic high-resolution timer: handshakes take about a millisecond, so
    // the injected clock (validity checks, timeouts) is too coarse for the duration histogram.
    const started = performance.now()
    const host = stripBrackets(opts.hostname)
    const port = Number(opts.port === '' ? 443 : opts.port)
    const endpoint = formatHostPort(host, port)
    const servername = opts.servername ?? (isIP(host) === 0 ? host : undefined)
    const sessionEndpoint = `${servername ?? ''}@${endpoint}`
    const report = (event: Omit<HandshakeEvent, 'endpoint' | 'durationMs'>): void => {
      onHandshake?.({ endpoint, durationMs: performance.now() - started, ...event })
    }

    const snapshot = snapshots.current()
    let context: tls.SecureContext
    try {
      if (snapshot === undefined) throw tlsError('ERR_SPIFFE_TLS_NO_CREDENTIALS', 'no credential snapshot has been published yet')
      usableSnapshot(snapshots, snapshot, clock.now())
      sessions.advance(snapshot.svidGeneration, snapshot.bundleGeneration)
      context = contexts.get(snapshot)
    } catch (err) {
      report({ result: 'ERR_SPIFFE_TLS_NO_CREDENTIALS' satisfies TlsErrorCode, resumed: false })
      callback(tlsError('ERR_SPIFFE_TLS_NO_CREDENTIALS',
        `no usable svid to present to backend ${quote(endpoint)}: ${(err as Error).message}`, { at: endpoint, cause: err }), null)
      return
    }

    const { svidGeneration, bundleGeneration } = snapshot
    const offered = resumption ? sessions.get(sessionEndpoint, svidGeneration, bundleGeneration) : undefined
    // tls.connect({ session }) parses the session twice (once in the TLSSocket constructor, once
    // more before connecting). On a socket it creates itself, the handshake starts only once TCP
    // connects, so setting the session right after connect() applies it once, before ClientHello.
    // A socket handed over by undici starts the handshake inside connect(): it needs the option.
    const sessionOption = offered !== undefined && opts.httpSocket !== undefined ? { session: offered.session } : {}
    const socket = tls.connect({
      host,
      port,
      ...(servername === undefined ? {} : { servername }),
      ...(opts.localAddress == null ? {} : { localAddress: opts.localAddress }),
      ...(opts.httpSocket === undefined ? {} : { socket: opts.httpSocket }),
      ...sessionOption,
      secureContext: context,
      rejectUnauthorized: false,
      ALPNProtocols: opts.alpnProtocols ?? alpn
    })
    // setSession is documented API that @types/node does not declare.
    if (offered !== undefined && opts.httpSocket === undefined) (socket as tls.TLSSocket & { setSession: (s: Buffer) => void }).setSession(offered.session)

    let settled = false
    let tcpConnected = opts.httpSocket !== undefined
    let verifiedChain: readonly X509Certificate[] | undefined
    let leafFingerprint: string | undefined
    let pendingSession: Buffer | undefined
    const store = (session: Buffer): void => {
      if (verifiedChain === undefined) { pendingSession = session; return }
      // One ticket per connection is enough (a TLS 1.3 server sends two by default): later
      // ones would only be parsed, wrapped and thrown away.
      socket.off('session', store)
      // Kept without the backend's certificate: setSession would decode it on every resumption.
      const entry: CachedSession = { session: withoutPeerCertificate(session), chain: verifiedChain, storedAt: performance.now(), ...(leafFingerprint === undefined ? {} : { leafFingerprint }) }
      sessions.set(sessionEndpoint, svidGeneration, bundleGeneration, entry)
    }
    // TLS 1.2 delivers the session during the handshake, TLS 1.3 tickets arrive after it:
    // either way a session is cached only once the backend has been verified. An offered
    // session that is still fresh is kept (see SESSION_REFRESH_MS); without a 'session'
    // listener Node does not even serialize the new tickets.
    if (resumption && (offered === undefined || performance.now() - (offered.storedAt ?? 0) > SESSION_REFRESH_MS)) socket.on('session', store)

    const fail = (err: Error, result: string, resumed: boolean, errorCode?: string, peerChain?: readonly X509Certificate[]): void => {
      if (settled) return
      settled = true
      clock.clearTimeout(timer)
      socket.off('error', onError)
      socket.on('error', () => {}) // late errors of a socket nobody owns any more
      socket.destroy()
      sessions.delete(sessionEndpoint, svidGeneration, bundleGeneration)
      report({ result, resumed, message: err.message, ...(errorCode === undefined ? {} : { errorCode }), ...(peerChain === undefined ? {} : { peerChain }) })
      callback(err, null)
    }
    const onError = (err: Error & { code?: string }): void => {
      if (!tcpConnected) { fail(err, 'ERR_SPIFFE_TLS_CONNECT_FAILED' satisfies TlsErrorCode, false, err.code); return }
      fail(tlsError('ERR_SPIFFE_TLS_HANDSHAKE_FAILED',
        `tls handshake with backend ${quote(endpoint)} failed: ${err.message}`, { at: endpoint, cause: err }),
      'ERR_SPIFFE_TLS_HANDSHAKE_FAILED' satisfies TlsErrorCode, false, err.code)
    }
    const timer = clock.setTimeout(() => {
      fail(tlsError('ERR_SPIFFE_TLS_HANDSHAKE_TIMEOUT',
        `tls handshake with backend ${quote(endpoint)} did not complete within ${timeoutMs} ms`, { at: endpoint }),
      'ERR_SPIFFE_TLS_HANDSHAKE_TIMEOUT' satisfies TlsErrorCode, false)
    }, timeoutMs)

    socket.once('connect', () => { tcpConnected = true })
    socket.on('error', onError)
    socket.once('close', () => {
      if (settled) return // the usual end of a verified socket: no error object to build
      fail(tlsError('ERR_SPIFFE_TLS_HANDSHAKE_FAILED',
        `backend ${quote(endpoint)} closed the connection during the tls handshake`, { at: endpoint }),
      'ERR_SPIFFE_TLS_HANDSHAKE_FAILED' satisfies TlsErrorCode, false)
    })
    socket.once('secureConnect', () => {
      if (settled) return
      const resumed = socket.isSessionReused()
      // Verify against the newest trust: a trust change during the handshake must apply.
      const latest = snapshots.current() ?? snapshot
      let presented: readonly X509Certificate[] | undefined
      try {
        const now = clock.now()
        // A resumed client session carries no peer certificate in Node; re-verify the chain
        // recorded when the session was first established (same trust generation by key).
        const leaf = resumed ? offered?.chain[0] : socket.getPeerX509Certificate()
        const fp = (resumed ? offered?.leafFingerprint : undefined) ?? leaf?.fingerprint256
        let peer = fp === undefined ? undefined : verdicts.get(fp, latest.bundles, now)
        // On a hit, the chain is the verified path without its anchor: what the backend sent.
        const chain = peer?.chain.slice(0, -1) ?? (resumed ? offered?.chain ?? [] : readPeerChain(leaf))
        presented = chain
        if (peer === undefined) {
          // CRLs of the backend's domain are checked too; a CRL change publishes a new snapshot
          // (new bundle generation), which clears the verdicts and the session cache.
          peer = verifyPeer(chain, latest.bundles, 'server', now, endpoint, resumed, latest.revocation)
          if (fp !== undefined) verdicts.set(fp, latest.bundles, peer, earliestNextUpdate(latest.revocation?.get(peer.id.trustDomain.name)))
        }
        // Checked on every handshake, cached verdict or not: the cache holds SPIFFE verdicts only.
        const denied = options.authorize?.deny(peer.id, endpoint)
        if (denied !== undefined) throw denied
        if (opts.requireAlpn !== undefined && socket.alpnProtocol !== opts.requireAlpn) {
          throw tlsError('ERR_SPIFFE_TLS_ALPN_MISMATCH',
            `backend ${quote(endpoint)} (${peer.id.toString()}) did not select alpn ${quote(opts.requireAlpn)}, got ${quote(socket.alpnProtocol === false ? 'none' : socket.alpnProtocol ?? 'none')}`, { at: endpoint })
        }
        settled = true
        clock.clearTimeout(timer)
        socket.off('error', onError)
        verifiedChain = chain
        leafFingerprint = fp
        recordPeer(socket, { id: peer.id, chain, resumed })
        live.add(socket, endpoint, { id: peer.id, chain, resumed })
        if (pendingSession !== undefined) store(pendingSession)
        // No TCP keep-alive probes (undici's own connector sets them): idle pooled connections
        // close after the pool's keep-alive timeout and a silent backend hits the service
        // timeout long before a probe would fire, so the extra setsockopt calls buy nothing.
        socket.setNoDelay(true)
        report({ result: 'ok', resumed, trustDomain: peer.id.trustDomain.name, peerId: peer.id.toString(), peerChain: chain })
        explainRefusal(socket, endpoint, snapshot.svid.id.toString())
        callback(null, socket)
      } catch (err) {
        fail(err as Error, reasonOf(err, 'ERR_SPIFFE_TLS_PEER_REJECTED' satisfies TlsErrorCode), resumed, undefined, presented)
      }
    })
  }

  Object.defineProperty(connect, 'cachedSessions', { get: () => sessions.size })
  return Object.assign(connect, {
    close: (): void => { unsubscribe(); unfollow(); changes.close(); sessions.clear(); verdicts.clear() },
    onCredentialChange: changes.onCredentialChange,
    svidNotAfter: changes.svidNotAfter
  }) as BackendConnector
}

function stripBrackets (host: string): string {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host
}
