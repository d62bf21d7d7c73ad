import { loadConfig, type SpiffeLbConfig } from '../../config/index.ts'
import { parseHostPort } from '../../internal/host-port.ts'
import { systemClock, type Clock } from '../../internal/clock.ts'
import { quote } from '../../internal/errors.ts'
import type { BundleSet } from '../../spiffe/index.ts'
import { X509Svid } from '../../spiffe/index.ts'
import { TLS_ERROR } from '../../tls/errors.ts'
import { PeerAuthorizer } from '../../tls/peer-authorizer.ts'
import { probeBackend, type ProbeOptions } from '../../tls/probe.ts'
import { readTextFile } from '../../process/read-text-file.ts'
import { EXIT, type CommandOutput } from '../../process/command-output.ts'
import { openIdentityCredentials } from '../../runtime/credentials-wiring.ts'
import { nowOption } from '../../process/now-flag.ts'
import { renderProbeReport } from './probe-output.ts'
import { probeRequest, type ProbeRequestResult } from './probe-request.ts'
import { loadBundles, loadCrls } from '../trust-inputs.ts'
import { cliError } from '../../process/errors.ts'
import { durationFlag } from '../../process/duration-flag.ts'

/** Options of `probe`, as commander parses them. */
export interface ProbeCommandOptions {
  target: string
  cert?: string
  key?: string
  bundle: string[]
  trustConfig: string[]
  config?: string
  service?: string
  servername?: string
  json?: boolean
  now?: string
  /** CRL files signed by a trusted authority (repeatable), as `verify --crl`. */
  crl?: string[]
  timeout: string
  /** `server` (default): judge a backend; `client`: call an inbound listener as a caller, one request included. */
  role?: string
  /** The request sent after the handshake: path (default `/`) and Host (default the target). */
  path?: string
  host?: string
}

/** What the proxy would present and trust for the probe, and what it enforces beyond that. */
type Identity = Pick<ProbeOptions, 'svid' | 'alpnProtocols' | 'revocationByDomain'> & { bundles: BundleSet } & { authorizer?: PeerAuthorizer, close: () => Promise<void> }

/** Returns the identity of backend service `name` of `config`, from its configured credential source. */
async function serviceIdentity (config: SpiffeLbConfig, name: string, clock: Clock): Promise<Identity> {
  const svc = config.backendServices.find((s) => s.name === name)
  if (svc === undefined) {
    throw cliError('ERR_SPIFFE_CLI_UNKNOWN_SERVICE', `backend service ${quote(name)} is not in ${quote(config.source)} (${config.backendServices.map((s) => s.name).join(', ')})`, { at: '--service' })
  }
  if (svc.tlsSettings.identity === undefined) {
    throw cliError('ERR_SPIFFE_CLI_UNKNOWN_SERVICE', `backend service ${quote(name)} has no tlsSettings.identity, so it does not use mtls`, { at: '--service' })
  }
  const [creds] = await openIdentityCredentials({ ...config, backendServices: [svc] }, clock)
  if (creds === undefined) throw cliError('ERR_SPIFFE_CLI_UNKNOWN_SERVICE', `backend service ${quote(name)} has no identity`, { at: '--service' })
  const close = async (): Promise<void> => { creds.revocation?.stop(); creds.federation?.stop(); await creds.source.stop() }
  const snapshot = creds.store.current()
  if (snapshot === undefined) {
    await close()
    throw cliError('ERR_SPIFFE_CLI_PROBE_NO_CREDENTIALS', `no credentials for ${quote(creds.identity.toString())} from source ${quote(config.credentials.source)}`, { at: config.source })
  }
  const bundles = snapshot.bundles
  const authorizer = svc.authorization === undefined ? undefined : new PeerAuthorizer(svc.authorization.allowedPeers)
  // The CRLs the proxy would enforce (the revocation block, the local CA pool's CRL).
  const revocation = snapshot.revocation === undefined ? {} : { revocationByDomain: snapshot.revocation }
  return { svid: snapshot.svid, bundles, alpnProtocols: ['http/1.1'], ...revocation, ...(authorizer === undefined ? {} : { authorizer }), close }
}

async function fileIdentity (opts: ProbeCommandOptions): Promise<Identity> {
  if (opts.cert === undefined || opts.key === undefined) {
    throw cliError('ERR_SPIFFE_CLI_PROBE_IDENTITY', 'probe needs our identity: --cert FILE --key FILE, or -c CONFIG --service NAME', { at: '--cert' })
  }
  const svid = X509Svid.fromPem(await readTextFile(opts.cert, 'certificate chain'), await readTextFile(opts.key, 'private key'), opts.cert)
  const bundles: BundleSet = await loadBundles(opts.bundle, opts.trustConfig)
  return { svid, bundles, close: async () => {} }
}

/** Returns `--path` checked: an origin-form path (`/…`) without spaces or line breaks. */
function requestPath (path: string | undefined): string {
  if (path === undefined) return '/'
  if (!/^\/[^\s]*$/.test(path)) throw cliError('ERR_SPIFFE_CLI_PROBE_PATH', `--path must start with "/" and hold no spaces, got ${quote(path)}`, { at: '--path' })
  return path
}

/**
 * `probe HOST:PORT`: connects to a live backend as the proxy would and prints the TLS parameters,
 * the presented chain, the bundle used, the HTTP status of one `GET` sent over the verified
 * connection (as the proxy forwards) and the verdict with every broken rule (text, or `--json`).
 * Returns 0 when the proxy would accept the backend, 1 when it would not (including when the
 * backend refuses our certificate), 2 when no TLS handshake could start (connection refused,
 * timeout). Bad arguments throw a coded error (exit 2).
 */
export async function runProbe (opts: ProbeCommandOptions, out: CommandOutput, clock: Clock = systemClock): Promise<number> {
  const target = parseHostPort(opts.target, 'ERR_SPIFFE_CLI_PROBE_TARGET', 1, cliError)
  // A bare integer stays milliseconds, as before durations had units.
  const timeoutMs = /^[0-9]+$/.test(opts.timeout) ? Number(opts.timeout) : durationFlag('--timeout', opts.timeout, 1, 'ERR_SPIFFE_CLI_PROBE_TIMEOUT')
  if (timeoutMs <= 0) {
    throw cliError('ERR_SPIFFE_CLI_PROBE_TIMEOUT', `--timeout must be more than 0ms, got ${quote(opts.timeout)}`, { at: '--timeout' })
  }
  const role = opts.role ?? 'server'
  if (role !== 'server' && role !== 'client') {
    throw cliError('ERR_SPIFFE_CLI_ROLE', `--role must be server or client, got ${quote(role)}`, { at: '--role' })
  }
  const now = nowOption(opts.now, clock)
  if (opts.config !== undefined && opts.service === undefined) {
    throw cliError('ERR_SPIFFE_CLI_PROBE_IDENTITY', '-c CONFIG needs --service NAME: the backend service whose identity and trust to probe with', { at: '--service' })
  }
  const identity = opts.config !== undefined
    ? await serviceIdentity(await loadConfig(opts.config), opts.service ?? '', clock)
    : await fileIdentity(opts)
  const { authorizer, close, ...presented } = identity
  try {
    const lists = await loadCrls(opts.crl ?? [], [...presented.bundles].flatMap((b) => b.authorities))
    const report = await probeBackend({
      host: target.host,
      port: target.port,
      ...(opts.servername === undefined ? {} : { servername: opts.servername }),
      ...presented,
      ...(authorizer === undefined ? {} : { authorize: (id) => authorizer.deny(id, target.address) }),
      ...(lists.length === 0 ? {} : { revocation: { lists } }),
      now,
      timeoutMs,
      // As a caller (`--role client`) the one request is made below, where a 403 is read too.
      ...(role === 'client' ? {} : { request: { path: requestPath(opts.path), host: opts.host ?? target.address } })
    })
    // As a caller of an inbound listener: does it let us in? It judges our certificate only
    // after the handshake, so one request tells (an answer, a 403, or the connection closed).
    const request = role === 'client' && report.verdict === 'accept'
      ? await probeRequest(target.host, target.port, presented.svid, opts.path ?? '/', timeoutMs, opts.servername)
      : undefined
    const full = request === undefined ? report : { ...report, request }
    out.stdout.write(opts.json === true ? `${JSON.stringify(full, null, 2)}\n` : renderProbeReport(report) + renderRequest(request))
    if (request !== undefined && (request.status === undefined || request.status >= 400)) return EXIT.FAILED
    if (report.verdict === 'accept') return EXIT.OK
    const code = report.failures[0]?.code
    return !report.connected && (code === TLS_ERROR.CONNECT_FAILED || code === TLS_ERROR.HANDSHAKE_TIMEOUT) ? EXIT.USAGE : EXIT.FAILED
  } finally {
    await close()
  }
}

/** Returns the text lines of `--role client`'s request ('' without one). */
function renderRequest (r: ProbeRequestResult | undefined): string {
  if (r === undefined) return ''
  const answer = r.status === undefined ? `refused: ${r.error ?? 'no answer'}` : `${r.status}${r.body === undefined || r.body === '' ? '' : ` ${r.body}`}`
  return `  request:        GET ${r.path} -> ${answer}\n  listener:       ${r.status !== undefined && r.status < 400 ? 'lets us in' : 'does not let us in'}\n`
}
