import tls from 'node:tls'
import type { TLSSocket } from 'node:tls'
import type { BundleSet } from '../../spiffe/bundle-set.ts'
import { staticSnapshotSource } from '../../spiffe/snapshot.ts'
import type { X509Svid } from '../../spiffe/x509-svid.ts'
import { createBackendConnector } from '../../tls/backend-connector.ts'
import { contextOptions } from '../../tls/context-cache.ts'
import type { Completed, Side } from './handshake-loop.ts'
import type { TlsVersion } from './handshake-options.ts'
import type { Negotiated } from '../report-model.ts'
import { BENCH_CLOSE_TIMEOUT_MS } from '../../defaults.ts'

/** What both sides of a cell share: where to connect, what to offer, whom to be. */
export interface SideParams {
  host: string
  port: number
  tlsVersion: TlsVersion
  groups: readonly string[]
  /** Offer the previous session (resumed mode). */
  resume: boolean
  svid: X509Svid
  bundles: BundleSet
}


/** OpenSSL's curve names for the groups the report spells the TLS way. */
const GROUP_NAMES: Readonly<Record<string, string>> = { prime256v1: 'P-256', secp384r1: 'P-384', secp521r1: 'P-521' }

/**
 * Returns what the client negotiated. The group comes from `getEphemeralKeyInfo()`: Node 24
 * reports `X25519`, `prime256v1` (reported as `P-256`) and, for hybrid groups, `X25519MLKEM768`
 * (type `TLSGroup`); a TLS 1.2 resumption has no key exchange and reports `none`.
 */
export function negotiatedOf (socket: TLSSocket): Negotiated {
  const info: { name?: unknown } = socket.getEphemeralKeyInfo() ?? {}
  const name = typeof info.name === 'string' ? info.name : 'none'
  return { protocol: socket.getProtocol() ?? 'unknown', cipher: socket.getCipher().name, group: GROUP_NAMES[name] ?? name }
}

/**
 * Ends the connection like a client that is done (close_notify, FIN) and resolves on 'close'.
 * Not `destroy()`: under TLS 1.3 the client's Finished may still sit in Node's write queue when
 * 'secureConnect' fires, and destroying drops it, so the server never completes (nor counts) the
 * handshake.
 */
function closeSocket (socket: TLSSocket): Promise<void> {
  return new Promise<void>((resolve) => {
    socket.on('error', () => {}) // a reset while closing is not the handshake's concern
    const timer = setTimeout(() => { socket.destroy() }, BENCH_CLOSE_TIMEOUT_MS)
    socket.once('close', () => { clearTimeout(timer); resolve() })
    socket.end()
  })
}

function completed (socket: TLSSocket): Completed {
  return { resumed: socket.isSessionReused(), negotiated: () => negotiatedOf(socket), close: () => closeSocket(socket) }
}

/**
 * Returns the subject side: the spiffe-lb backend connector (the proxy's own), called directly
 * as undici would, presenting `svid` and verifying the target's SPIFFE ID against `bundles`.
 * A handshake lasts from the connect call to its callback. `close()` releases the connector.
 */
export function connectorSide (p: SideParams): Side & { close (): void } {
  const connector = createBackendConnector({
    snapshots: staticSnapshotSource(p.svid, p.bundles),
    sessionResumption: p.resume,
    minVersion: p.tlsVersion,
    maxVersion: p.tlsVersion,
    groups: p.groups
  })
  const options = { hostname: p.host, port: p.port, protocol: 'https:' }
  return {
    handshake: () => new Promise<Completed>((resolve, reject) => {
      connector(options, (err, socket) => {
        if (err !== null) reject(err)
        else resolve(completed(socket as TLSSocket))
      })
    }),
    close: () => { connector.close() }
  }
}

/**
 * Returns the baseline side: bare `tls.connect` with ONE shared `SecureContext` built from the
 * same options as the connector's (same SVID, versions, groups, empty CA store), no SPIFFE
 * verification, and in resumed mode the latest session seen (as the connector caches it).
 */
export function baselineSide (p: SideParams): Side {
  const secureContext = tls.createSecureContext(contextOptions(
    { svid: p.svid, bundles: p.bundles, generation: 1, svidGeneration: 1, bundleGeneration: 1 },
    { minVersion: p.tlsVersion, maxVersion: p.tlsVersion, groups: p.groups }))
  let session: Buffer | undefined
  const inFlight = new Set<TLSSocket>()
  return {
    handshake: () => new Promise<Completed>((resolve, reject) => {
      const socket = tls.connect({
        host: p.host,
        port: p.port,
        secureContext,
        rejectUnauthorized: false,
        ALPNProtocols: ['http/1.1'],
        ...(session === undefined ? {} : { session })
      })
      inFlight.add(socket)
      if (p.resume) socket.on('session', (s: Buffer) => { session = s })
      const onError = (err: Error): void => { inFlight.delete(socket); socket.destroy(); reject(err) }
      socket.once('error', onError)
      socket.once('secureConnect', () => {
        inFlight.delete(socket)
        socket.off('error', onError)
        resolve(completed(socket))
      })
    }),
    abort: () => { for (const s of inFlight) s.destroy(new Error('handshake did not finish before the slice watchdog')) }
  }
}
