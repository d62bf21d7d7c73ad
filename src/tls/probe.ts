import type { X509Certificate } from 'node:crypto'
import tls from 'node:tls'
import { HANDSHAKE_TIMEOUT_MS, PROBE_SETTLE_MS } from '../defaults.ts'
import type { SpiffeLbError } from '../internal/errors.ts'
import { certInfo, certLabel } from '../spiffe/cert-info.ts'
import type { RevocationByDomain, RevocationOptions } from '../spiffe/revocation.ts'
import type { X509BundleSource } from '../spiffe/source.ts'
import type { SpiffeId } from '../spiffe/spiffe-id.ts'
import { auditX509Svid } from '../spiffe/verify-x509-svid.ts'
import type { X509Svid } from '../spiffe/x509-svid.ts'
import { checkTlsParameters, contextOptions, type TlsParameters } from './context-cache.ts'
import { TLS_ERROR } from './errors.ts'
import { probeConnection, type BackendRefusal, type NegotiatedTls } from './probe-connection.ts'
import type { CertificateRequestSeen } from './certificate-request.ts'
import { formatHostPort } from '../internal/host-port.ts'

/** What `probe` needs: the target, our identity and trust, and the proxy's TLS settings. */
export interface ProbeOptions extends TlsParameters {
  host: string
  port: number
  /** SNI; default none for an IP address, else the host name (as the proxy's connector). */
  servername?: string
  /** The X.509-SVID we present, as the proxy would. */
  svid: X509Svid
  /** Trust bundles, one per trust domain. */
  bundles: X509BundleSource
  /** ALPN offered; default `['http/1.1']` as the connector. */
  alpnProtocols?: string[]
  /** CRLs to check the presented path against (as `verify --crl`). */
  revocation?: RevocationOptions
  /** CRLs per trust domain, as the proxy holds them (used for a domain `revocation` does not cover). */
  revocationByDomain?: RevocationByDomain
  /** Extra verdict on a verified peer ID (authorization); returns the broken rule or undefined. */
  authorize?: (id: SpiffeId) => SpiffeLbError | undefined
  /** Time of the verdict, ms since the epoch. */
  now: number
  /** Per-connection deadline; default `HANDSHAKE_TIMEOUT_MS` (src/defaults.ts). */
  timeoutMs?: number
  /** How long to wait for the backend's verdict on our certificate after a TLS 1.3 handshake; default `PROBE_SETTLE_MS`. */
  settleMs?: number
  /** Send one `GET path` with this Host after the handshake, as the proxy would, and judge the answer; absent: no request. */
  request?: { path: string, host: string }
}

/** One certificate as the backend presented it. */
export interface PresentedCertificate {
  subject: string
  spiffeId: string | undefined
  issuer: string
  notBefore: string
  notAfter: string
  /** `EC P-256`, `RSA 2048`, `Ed25519`. */
  keyAlgorithm: string
  isCa: boolean
}

/** The report of a probe: everything `spiffe-lb probe` prints, JSON-ready. */
export interface ProbeReport {
  target: string
  /** False when no TLS handshake completed: then only `error` (and `tcpMs`) are meaningful. */
  connected: boolean
  tcpMs: number | undefined
  handshakeMs: number | undefined
  tls: NegotiatedTls | undefined
  chain: PresentedCertificate[]
  spiffeId: string | undefined
  trustDomain: string | undefined
  /** The bundle used: its trust domain and the subjects of its authorities; undefined when none applies. */
  bundle: { trustDomain: string, authorities: string[] } | undefined
  verdict: 'accept' | 'reject'
  /** Every rule broken, with its code (the same codes the proxy reports). */
  failures: Array<{ code: string, message: string }>
  /** Whether a second connection resumed the first one's session; undefined when not tried. */
  resumption: { offered: boolean, resumed: boolean } | undefined
  /** Set when the backend refused our certificate: an alert in or after the handshake, or a reset after the request. */
  refusedUs: BackendRefusal | undefined
  /** Set when no TLS handshake completed for another reason than an alert: refused or timed-out connection, reset. */
  connectionError: { stage: 'connect' | 'handshake', code: string | undefined, message: string } | undefined
  /** Whether the backend asked for a client certificate, and from which CAs; undefined when its handshake could not be read. */
  clientCertificateRequest: CertificateRequestSeen | undefined
  /** The backend's answer to the probe's request (`request`): status and reason phrase; undefined when none was sent or none came. */
  http: { status: number, reason: string } | undefined
}

// nginx answers a client certificate it refused after the handshake with these 400 pages.
const SSL_CERTIFICATE_PAGE = /SSL certificate error|No required SSL certificate was sent|SSL certificate/i

/** Returns `cert`'s public key algorithm as people name it. */
export function keyAlgorithmName (cert: X509Certificate): string {
  const key = cert.publicKey
  const d = key.asymmetricKeyDetails ?? {}
  switch (key.asymmetricKeyType) {
    case 'ec': return `EC ${d.namedCurve === 'prime256v1' ? 'P-256' : d.namedCurve === 'secp384r1' ? 'P-384' : d.namedCurve ?? '?'}`
    case 'rsa': return `RSA ${d.modulusLength ?? '?'}`
    case 'ed25519': return 'Ed25519'
    default: return key.asymmetricKeyType ?? 'unknown'
  }
}

function summarize (cert: X509Certificate): PresentedCertificate {
  let spiffeId: string | undefined
  let isCa = false
  try {
    const info = certInfo(cert)
    spiffeId = info.san.uris.find((u) => u.toLowerCase().startsWith('spiffe:'))
    isCa = info.basicConstraints.ca
  } catch { /* an unparseable extension: the verdict names it */ }
  return {
    subject: certLabel(cert),
    spiffeId,
    issuer: (cert.issuer as string | undefined ?? '').replaceAll('\n', ', '),
    notBefore: cert.validFromDate.toISOString(),
    notAfter: cert.validToDate.toISOString(),
    keyAlgorithm: keyAlgorithmName(cert),
    isCa
  }
}

/**
 * Returns the verdict of the proxy on a live backend, with every rule it breaks: connects with
 * `svid` as the client certificate (OpenSSL verification off, like the connector), audits the
 * presented chain against the bundle of the backend's own trust domain (docs/architecture.md#security-model),
 * applies `authorize`, then, when the backend was accepted, connects again offering the first
 * session to show whether it resumes. No application byte is written. Never throws for a
 * network failure: `connected: false` with `refusedUs` says what happened.
 * Throws `ERR_SPIFFE_TLS_BAD_PARAMETERS` for unusable TLS parameters.
 */
export async function probeBackend (opts: ProbeOptions): Promise<ProbeReport> {
  checkTlsParameters(opts)
  const snapshot = { svid: opts.svid, bundles: undefined as never, generation: 1, svidGeneration: 1, bundleGeneration: 1 }
  const context = tls.createSecureContext(contextOptions(snapshot, opts))
  const isIp = /^[\d.]+$|:/.test(opts.host)
  const connectOpts = {
    host: opts.host,
    port: opts.port,
    servername: opts.servername ?? (isIp ? undefined : opts.host),
    context,
    alpnProtocols: opts.alpnProtocols ?? ['http/1.1'],
    timeoutMs: opts.timeoutMs ?? HANDSHAKE_TIMEOUT_MS,
    settleMs: opts.settleMs ?? PROBE_SETTLE_MS
  }
  const target = formatHostPort(opts.host, opts.port)
  const first = await probeConnection({ ...connectOpts, watchCertificateRequest: true, ...(opts.request === undefined ? {} : { request: opts.request }) })
  if (!first.ok) {
    const code = first.refused.code === 'ETIMEDOUT' ? TLS_ERROR.HANDSHAKE_TIMEOUT
      : first.stage === 'connect' ? TLS_ERROR.CONNECT_FAILED
        : first.refused.alert !== undefined ? TLS_ERROR.REFUSED_BY_PEER : TLS_ERROR.HANDSHAKE_FAILED
    const what = code === TLS_ERROR.REFUSED_BY_PEER ? `backend ${target} refused our certificate with alert ${JSON.stringify(first.refused.alert)}` : `${first.stage === 'connect' ? 'connection to' : 'tls handshake with'} backend ${target} failed`
    const refusedUs = code === TLS_ERROR.REFUSED_BY_PEER ? first.refused : undefined
    return {
      target, connected: false, tcpMs: first.tcpMs, handshakeMs: undefined, tls: undefined, chain: [], spiffeId: undefined,
      trustDomain: undefined, bundle: undefined, verdict: 'reject', resumption: undefined, refusedUs, http: undefined, clientCertificateRequest: undefined,
      connectionError: refusedUs === undefined ? { stage: first.stage, code: first.refused.code, message: first.refused.message } : undefined,
      failures: [{ code, message: `${what}: ${first.refused.message}` }]
    }
  }
  const audit = auditX509Svid(first.chain, opts.bundles, {
    role: 'server',
    now: opts.now,
    ...(opts.revocation === undefined ? {} : { revocation: opts.revocation }),
    ...(opts.revocationByDomain === undefined ? {} : { revocationByDomain: opts.revocationByDomain })
  })
  const failures: Array<{ code: string, message: string }> = first.chain.length === 0
    ? [{ code: TLS_ERROR.NO_PEER_CERTIFICATE, message: `backend ${target} presented no certificate (an x509-svid is required)` }]
    : audit.failures.map((f) => ({ code: f.code, message: f.message }))
  if (audit.id !== undefined && audit.failures.length === 0) {
    const denied = opts.authorize?.(audit.id)
    if (denied !== undefined) failures.push({ code: denied.code, message: denied.message })
  }
  const http = first.http === undefined || first.http.status === 0 ? undefined : { status: first.http.status, reason: first.http.reason }
  const after = `backend ${target} refused our svid after the handshake`
  if (opts.request !== undefined && http?.status === 400 && SSL_CERTIFICATE_PAGE.test(`${http.reason} ${first.http?.body ?? ''}`)) {
    const page = /<title>([^<]*)<\/title>/i.exec(first.http?.body ?? '')?.[1] ?? http.reason
    failures.push({ code: TLS_ERROR.SVID_REFUSED_AFTER_HANDSHAKE, message: `${after}: it answered the request with 400 ${JSON.stringify(page)}, its client certificate error` })
  } else if (opts.request !== undefined && http === undefined) {
    const why = first.refused === undefined
      ? 'it closed the connection right after the request without an answer'
      : first.refused.alert !== undefined ? `it sent alert ${JSON.stringify(first.refused.alert)} (${first.refused.code ?? 'no code'})` : `it reset the connection right after the request (${first.refused.code ?? first.refused.message})`
    failures.push({ code: TLS_ERROR.SVID_REFUSED_AFTER_HANDSHAKE, message: `${after}: ${why}` })
  } else if (first.refused !== undefined && http === undefined) {
    failures.push({ code: TLS_ERROR.REFUSED_BY_PEER, message: `backend ${target} refused our certificate${first.refused.alert === undefined ? '' : ` with alert ${JSON.stringify(first.refused.alert)}`}: ${first.refused.message}` })
  }
  const bundle = audit.id === undefined ? undefined : opts.bundles.getBundleForTrustDomain(audit.id.trustDomain)
  let resumption: ProbeReport['resumption']
  if (failures.length === 0) {
    const second = await probeConnection({ ...connectOpts, ...(first.session === undefined ? {} : { session: first.session }) })
    resumption = { offered: first.session !== undefined, resumed: second.ok && second.resumed }
  }
  return {
    target,
    connected: true,
    tcpMs: first.tcpMs,
    handshakeMs: first.handshakeMs,
    tls: first.tls,
    chain: first.chain.map(summarize),
    spiffeId: audit.id?.toString(),
    trustDomain: audit.id?.trustDomain.name,
    bundle: bundle === undefined ? undefined : { trustDomain: bundle.trustDomain.name, authorities: bundle.authorities.map(certLabel) },
    verdict: failures.length === 0 ? 'accept' : 'reject',
    failures,
    resumption,
    refusedUs: http === undefined ? first.refused : undefined,
    connectionError: undefined,
    clientCertificateRequest: first.certificateRequest,
    http
  }
}
