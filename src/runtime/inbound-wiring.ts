import { unwatchFile, watchFile } from 'node:fs'
import tls from 'node:tls'
import type { Logger } from 'pino'
import type { SpiffeLbMetrics } from '../admin/metrics.ts'
import type { InboundStatus } from '../admin/status.ts'
import type { SpiffeLbConfig } from '../config/types.ts'
import { assertKeyFileSafe } from '../credentials/key-file-mode.ts'
import { readRequiredCredentialFile } from '../credentials/read-file.ts'
import type { Clock } from '../internal/clock.ts'
import type { InboundEvent, InboundTlsOptions } from '../proxy/types.ts'
import { createClientVerifier } from '../tls/client-verifier.ts'
import type { IdentityCredentials } from './credentials-wiring.ts'
import type { PeerLog } from './peer-log.ts'
import { serveError } from './errors.ts'
import { INBOUND_CERT_POLL_MS } from '../defaults.ts'

/** The inbound listener's wiring: the proxy's options, its `/status` view, and what stops it. */
export interface InboundWiring {
  options: InboundTlsOptions
  status: (openConnections: number) => InboundStatus
  stop: () => void
}

/**
 * Returns the inbound side of `config`'s frontend (undefined without `serverTlsPolicy`): a client
 * verifier over the credentials of `serverCertificate.identity` (its SVID, bundles and CRLs), or
 * of the first managed identity when the certificate comes from files, which are then watched
 * and reloaded (a pair that does not load keeps the last good one). Every judged client is
 * logged when refused or ended, counted, and recorded for `/debug/peers`.
 */
export async function inboundFromConfig (config: SpiffeLbConfig, credentials: readonly IdentityCredentials[],
  deps: { clock: Clock, log: Logger, metrics: SpiffeLbMetrics, peers: PeerLog }): Promise<InboundWiring | undefined> {
  const policy = config.frontend.serverTlsPolicy
  if (policy === undefined) return undefined
  const { clock, log, metrics, peers } = deps
  const sc = policy.serverCertificate
  const own = 'identity' in sc ? credentials.find((c) => c.identity.equals(sc.identity)) : credentials[0]
  if (own === undefined) {
    throw serveError('ERR_SPIFFE_SERVE_INBOUND_NO_TRUST', 'no credentials were opened for frontend.serverTlsPolicy: nothing to verify client certificates against')
  }
  const readPair = async (files: { certFile: string, keyFile: string }): Promise<{ cert: string, key: string }> => {
    const [cert, key] = await Promise.all([readRequiredCredentialFile(files.certFile), readRequiredCredentialFile(files.keyFile)])
    assertKeyFileSafe(files.keyFile, key.mode)
    tls.createSecureContext({ cert: cert.text, key: key.text }) // throws for a pair that does not match
    return { cert: cert.text, key: key.text }
  }
  const certificate = 'certFile' in sc ? await readPair(sc) : undefined
  const verifier = createClientVerifier({
    snapshots: own.store,
    clock,
    ...(certificate === undefined ? {} : { certificate }),
    ...(policy.allowedPeers === undefined ? {} : { allowedPeers: policy.allowedPeers })
  })

  const counts: Record<string, number> = {}
  let lastRefusal: string | undefined
  const onEvent = (e: InboundEvent): void => {
    const v = e.verdict
    counts[e.outcome] = (counts[e.outcome] ?? 0) + 1
    metrics.observeInboundHandshake(e.outcome, v.allowed ? '' : v.code, v.trustDomain)
    if (e.outcome !== 'ended') peers.recordInbound(e.client, v, clock.now())
    const fields = { client: e.client, outcome: e.outcome, code: v.code, clientSpiffeId: v.spiffeId === '' ? null : v.spiffeId, message: v.message }
    if (e.outcome === 'refused') lastRefusal = `${v.code}: ${v.message}`
    if (e.outcome === 'refused' || e.outcome === 'ended' || e.outcome === 'not-allowed') log.warn(fields, 'inbound client refused')
    else if (e.outcome === 'forwarded') log.info(fields, 'inbound client forwarded without a valid certificate')
  }

  let stopWatching = (): void => {}
  if ('certFile' in sc) {
    const reload = (): void => {
      readPair(sc).then((next) => { verifier.setCertificate(next); log.info({ certFile: sc.certFile }, 'inbound server certificate reloaded') },
        (err: unknown) => { log.warn({ err, certFile: sc.certFile }, 'inbound server certificate not reloaded; the last good one stays') })
    }
    for (const file of [sc.certFile, sc.keyFile]) watchFile(file, { interval: INBOUND_CERT_POLL_MS, persistent: false }, reload)
    stopWatching = () => { unwatchFile(sc.certFile, reload); unwatchFile(sc.keyFile, reload) }
  }

  return {
    options: { verifier, mode: policy.clientValidationMode, clock, onEvent },
    status: (openConnections) => ({
      clientValidationMode: policy.clientValidationMode,
      serverCertificate: 'identity' in sc ? sc.identity.toString() : sc.certFile,
      allowedPeers: (policy.allowedPeers ?? []).map(String),
      openConnections,
      connections: { ...counts },
      ...(lastRefusal === undefined ? {} : { lastRefusal })
    }),
    stop: stopWatching
  }
}
