import type { X509Certificate } from 'node:crypto'
import tls from 'node:tls'
import type { SecureContext } from 'node:tls'
import { readPeerChain } from './peer-chain.ts'
import { connect as tcpConnect } from 'node:net'
import { readCertificateRequest, tapServerBytes, type CertificateRequestSeen } from './certificate-request.ts'

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

/** The backend's answer to the probe's one request, as far as it was read. */
export interface ProbeHttpAnswer {
  /** 0 when no status line arrived (the connection ended or failed first). */
  status: number
  reason: string
  /** The first bytes of the body (at most `PROBE_BODY_BYTES`), as text. */
  body: string
}

/** One probe connection: timings, parameters, what the backend presented and how it treated us. */
export type ProbeConnection =
  | { ok: true, tcpMs: number, handshakeMs: number, tls: NegotiatedTls, chain: X509Certificate[], resumed: boolean,
    session: Buffer | undefined, refused: BackendRefusal | undefined, http?: ProbeHttpAnswer, certificateRequest?: CertificateRequestSeen }
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
  /**
   * After the handshake, send `GET path` with this Host over the verified connection, as the
   * proxy would, and read the answer: a backend that judges our certificate after the handshake
   * answers it (nginx: 400 "The SSL certificate error"), sends an alert, or resets.
   */
  request?: { path: string, host: string }
  /** Read the server's handshake for its CertificateRequest (whether it asked for a client certificate, and from which CAs). */
  watchCertificateRequest?: boolean
}

/** How much of an answer's head and body a probe reads. */
const PROBE_READ_BYTES = 16 * 1024

/** Returns true when `raw` holds a whole answer whose length its head gives (a backend may keep the connection open). */
function complete (raw: Buffer): boolean {
  const text = raw.toString('latin1')
  const at = text.indexOf('\r\n\r\n')
  const length = /\r\ncontent-length: *(\d+)\r\n/i.exec(text.slice(0, at + 2))?.[1]
  return at >= 0 && length !== undefined && raw.length - (at + 4) >= Number(length)
}

/** Returns the status line and the start of the body of a raw HTTP/1.1 answer. */
function parseAnswer (raw: Buffer): ProbeHttpAnswer {
  const text = raw.toString('latin1')
  const m = /^HTTP\/\d\.\d (\d{3}) ?([^\r\n]*)\r?\n/.exec(text)
  const at = text.indexOf('\r\n\r\n')
  return { status: m === null ? 0 : Number(m[1]), reason: m?.[2] ?? '', body: at < 0 ? '' : text.slice(at + 4, at + 4 + 2048) }
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
 * domain afterwards). No application byte is written unless `opts.request` asks for one GET. Never rejects: connection and
 * handshake failures are part of the outcome.
 */
export async function probeConnection (opts: ProbeConnectOptions): Promise<ProbeConnection> {
  return await new Promise((resolve) => {
    const started = performance.now()
    let connectedAt: number | undefined
    let result: Extract<ProbeConnection, { ok: true }> | undefined
    let settle: NodeJS.Timeout | undefined
    // To see the server's CertificateRequest, TLS runs over a stream that records what the server sends.
    const tap = opts.watchCertificateRequest === true ? tapServerBytes(tcpConnect({ host: opts.host, port: opts.port })) : undefined
    const keylog: Buffer[] = []
    const socket = tls.connect({
      // `host` also when tunnelled: tls derives the default SNI from it ('localhost' otherwise).
      host: opts.host,
      ...(tap === undefined ? { port: opts.port } : { socket: tap.stream }),
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
      tap?.raw.destroy()
      resolve(outcome)
    }
    const deadline = setTimeout(() => {
      const http = answered()
      if (result !== undefined) { finish(http === undefined ? result : { ...result, http }); return }
      finish({ ok: false, stage: connectedAt === undefined ? 'connect' : 'handshake', tcpMs: tcpMs(), refused: { alert: undefined, code: 'ETIMEDOUT', message: `no tls handshake within ${opts.timeoutMs} ms` } })
    }, opts.timeoutMs)
    const tcpMs = (): number | undefined => connectedAt === undefined ? undefined : connectedAt - started
    if (tap === undefined) socket.once('connect', () => { connectedAt = performance.now() })
    else {
      tap.raw.once('connect', () => { connectedAt = performance.now() })
      socket.on('keylog', (line: Buffer) => { keylog.push(line) })
    }
    let answer: Buffer[] | undefined
    let answeredWhole: Extract<ProbeConnection, { ok: true }> | undefined
    const answered = (): ProbeHttpAnswer | undefined => answer === undefined ? undefined : parseAnswer(Buffer.concat(answer))
    socket.on('session', (session: Buffer) => {
      if (result === undefined) return // TLS 1.2: kept below from getSession()
      result.session = session
      // A ticket after the handshake: the backend accepted our certificate (or, with a
      // request, will say otherwise in its answer).
      if (opts.request === undefined) finish(result)
      else if (answeredWhole !== undefined) finish({ ...answeredWhole, session })
    })
    socket.on('data', (chunk: Buffer) => {
      if (answer === undefined || result === undefined) return
      answer.push(chunk)
      const raw = Buffer.concat(answer)
      if (raw.length < PROBE_READ_BYTES && !complete(raw)) return
      const done = { ...result, http: parseAnswer(raw) }
      // TLS 1.3 tickets may trail the answer: wait for one a moment, for the resumption check.
      if (result.tls.version !== 'TLSv1.3' || result.session !== undefined) { finish(done); return }
      answeredWhole = done
      settle ??= setTimeout(() => { finish(done) }, opts.settleMs)
    })
    socket.on('error', (err: Error & { code?: string }) => {
      // An answer already read is the verdict; an error after it is the connection closing.
      const http = answered()
      if (result !== undefined && http !== undefined && http.status !== 0) { finish({ ...result, http }); return }
      if (result !== undefined) { finish({ ...result, refused: alertOf(err), ...(http === undefined ? {} : { http }) }); return }
      finish({ ok: false, stage: connectedAt === undefined ? 'connect' : 'handshake', tcpMs: tcpMs(), refused: alertOf(err) })
    })
    // The backend ending its side is the end of its answer (through the recording stream the
    // socket may not close by itself).
    socket.once('end', () => {
      const http = answered()
      if (result !== undefined && http !== undefined) finish({ ...result, http })
    })
    socket.once('close', () => {
      const http = answered()
      if (result !== undefined) { finish(http === undefined ? result : { ...result, http }); return }
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
      if (tap !== undefined) {
        const seen = readCertificateRequest(tap.received, result.tls.version, socket.getCipher().standardName, keylog)
        if (seen !== undefined) result.certificateRequest = seen
      }
      if (opts.request !== undefined) {
        answer = []
        socket.write(`GET ${opts.request.path} HTTP/1.1\r\nHost: ${opts.request.host}\r\nUser-Agent: spiffe-lb-probe\r\nAccept: */*\r\nConnection: close\r\n\r\n`)
        return // the answer, the close or the deadline ends it
      }
      if (result.tls.version !== 'TLSv1.3' || resumed) { finish(result); return }
      settle = setTimeout(() => { if (result !== undefined) finish(result) }, opts.settleMs)
    })
  })
}
