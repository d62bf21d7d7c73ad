import type { X509Certificate } from 'node:crypto'
import tls from 'node:tls'
import type { SecureContext } from 'node:tls'
import { readPeerChain } from './peer-chain.ts'

/** The TLS parameters one probe connection negotiated. */
export interface NegotiatedTls {
  /** `TLSv1.3`, `TLSv1.2`. */
  version: string
  /** OpenSSL's cipher suite name. */
  cipher: string
  /** Key-exchange group (`X25519`, `prime256v1`, `X25519MLKEM768`), when Node reports one. */
  group: string | undefined
  /** Protocol chosen by ALPN, or undefined when none was. */
  alpn: string | undefined
}

/** What the backend did with our client certificate. */
export interface BackendRefusal {
  /** The TLS alert, as OpenSSL names it (`unknown ca`, `certificate required`), when one came. */
  alert: string | undefined
  /** The transport's error code (`ERR_SSL_TLSV1_ALERT_UNKNOWN_CA`, `ECONNRESET`). */
  code: string | undefined
  message: string
}

/** One probe connection: timings, parameters, what the backend presented and how it treated us. */
export type ProbeConnection =
  | { ok: true, tcpMs: number, handshakeMs: number, tls: NegotiatedTls, chain: X509Certificate[], resumed: boolean,
    session: Buffer | undefined, refused: BackendRefusal | undefined }
  | { ok: false, stage: 'connect' | 'handshake', tcpMs: number | undefined, refused: BackendRefusal }

/** Where and how to connect, as the proxy's connector would. */
export interface ProbeConnectOptions {
  host: string
  port: number
  servername: string | undefined
  context: SecureContext
  alpnProtocols: string[]
  session?: Buffer
  timeoutMs: number
  /**
   * After the handshake, how long to wait for the backend's verdict on our certificate: in TLS
   * 1.3 the client finishes first, and the server judges our certificate afterwards, answering
   * with a session ticket (accepted) or an alert (refused). A backend that sends neither within
   * this time is taken as accepting.
   */
  settleMs: number
}

const ALERT = /alert ([a-z ]+?)(?:\s*$|:|\(|\.)/i

/** Returns the TLS alert named in a transport error, when it names one. */
export function alertOf (err: Error & { code?: string }): BackendRefusal {
  const text = err.message.replace(/^.*SSL routines[^:]*:+/, '')
  const alert = ALERT.exec(text)?.[1]?.trim().toLowerCase()
  return { alert, code: err.code, message: err.message.split('\n')[0] ?? '' }
}

/**
 * Returns the outcome of one TLS connection to a backend made with `opts.context` (our SVID),
 * with OpenSSL's own verification off like the proxy's connector (we judge the peer per trust
 * domain afterwards). No application byte is ever written. Never rejects: connection and
 * handshake failures are part of the outcome.
 */
export async function probeConnection (opts: ProbeConnectOptions): Promise<ProbeConnection> {
  return await new Promise((resolve) => {
    const started = performance.now()
    let connectedAt: number | undefined
    let result: Extract<ProbeConnection, { ok: true }> | undefined
    let settle: NodeJS.Timeout | undefined
    const socket = tls.connect({
      host: opts.host,
      port: opts.port,
      ...(opts.servername === undefined ? {} : { servername: opts.servername }),
      ...(opts.session === undefined ? {} : { session: opts.session }),
      secureContext: opts.context,
      rejectUnauthorized: false,
      ALPNProtocols: opts.alpnProtocols
    })
    const finish = (outcome: ProbeConnection): void => {
      clearTimeout(deadline)
      if (settle !== undefined) clearTimeout(settle)
      socket.removeAllListeners()
      socket.on('error', () => {})
      socket.destroy()
      resolve(outcome)
    }
    const deadline = setTimeout(() => {
      if (result !== undefined) { finish(result); return }
      finish({ ok: false, stage: connectedAt === undefined ? 'connect' : 'handshake', tcpMs: tcpMs(), refused: { alert: undefined, code: 'ETIMEDOUT', message: `no tls handshake within ${opts.timeoutMs} ms` } })
    }, opts.timeoutMs)
    const tcpMs = (): number | undefined => connectedAt === undefined ? undefined : connectedAt - started
    socket.once('connect', () => { connectedAt = performance.now() })
    socket.on('session', (session: Buffer) => {
      if (result === undefined) return // TLS 1.2: kept below from getSession()
      result.session = session
      finish(result) // a ticket after the handshake: the backend accepted our certificate
    })
    socket.on('error', (err: Error & { code?: string }) => {
      if (result !== undefined) { finish({ ...result, refused: alertOf(err) }); return }
      finish({ ok: false, stage: connectedAt === undefined ? 'connect' : 'handshake', tcpMs: tcpMs(), refused: alertOf(err) })
    })
    socket.once('close', () => {
      if (result !== undefined) { finish(result); return }
      finish({ ok: false, stage: connectedAt === undefined ? 'connect' : 'handshake', tcpMs: tcpMs(), refused: { alert: undefined, code: undefined, message: 'the backend closed the connection during the handshake' } })
    })
    socket.once('secureConnect', () => {
      const now = performance.now()
      const key = socket.getEphemeralKeyInfo()
      const resumed = socket.isSessionReused()
      result = {
        ok: true,
        tcpMs: tcpMs() ?? 0,
        handshakeMs: now - (connectedAt ?? started),
        tls: {
          version: socket.getProtocol() ?? 'unknown',
          cipher: socket.getCipher().name,
          group: key !== null && typeof key === 'object' && 'name' in key && typeof key.name === 'string' ? key.name : undefined,
          alpn: typeof socket.alpnProtocol === 'string' ? socket.alpnProtocol : undefined
        },
        chain: readPeerChain(socket),
        resumed,
        session: socket.getProtocol() === 'TLSv1.3' ? undefined : socket.getSession(),
        refused: undefined
      }
      if (result.tls.version !== 'TLSv1.3' || resumed) { finish(result); return }
      settle = setTimeout(() => { if (result !== undefined) finish(result) }, opts.settleMs)
    })
  })
}
