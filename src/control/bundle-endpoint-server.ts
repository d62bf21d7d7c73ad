import { createServer, type Server } from 'node:https'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { quote } from '../internal/errors.ts'
import { formatHostPort, type HostPort } from '../internal/host-port.ts'
import { controlError } from './errors.ts'
import type { SequencedBundle } from './pool-bundle.ts'

/** Options of {@link createBundleEndpointServer}. */
export interface BundleEndpointServerOptions {
  listen: HostPort
  /** The server's certificate chain and key (PEM): an X509-SVID for https_spiffe, a web certificate for https_web. */
  certPem: string
  keyPem: string
  /** Returns the bundle to serve now; called per request. */
  bundle: () => Promise<SequencedBundle>
  /** The `spiffe_refresh_hint` served, in ms (sent in whole seconds). */
  refreshHintMs: number
  /** Called when the bundle cannot be read (the last good one is served meanwhile). */
  onError?: (err: unknown) => void
}

/** A running bundle endpoint. */
export interface BundleEndpointServer {
  /** `https://HOST:PORT`: the bundle is served on every path. */
  readonly url: string
  readonly address: AddressInfo
  close (): Promise<void>
}

/**
 * Starts a SPIFFE bundle endpoint (SPIFFE Federation §5.1): `GET` on any path answers the
 * bundle as a SPIFFE bundle JWK Set (Trust Domain and Bundle §4) with `spiffe_sequence` and
 * `spiffe_refresh_hint`, `application/json`; other methods get 405. When the bundle cannot be
 * read (a CA rotation half written), the last good one is served; before any, 503.
 * https://github.com/spiffe/spiffe/blob/main/standards/SPIFFE_Federation.md#51-serving-a-bundle-endpoint
 */
export async function createBundleEndpointServer (opts: BundleEndpointServerOptions): Promise<BundleEndpointServer> {
  let lastGood: SequencedBundle | undefined
  const hint = Math.max(1, Math.round(opts.refreshHintMs / 1000))
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' }).end('method not allowed\n')
      return
    }
    try {
      lastGood = await opts.bundle()
    } catch (err) {
      opts.onError?.(err)
    }
    if (lastGood === undefined) {
      res.writeHead(503, { 'content-type': 'text/plain' }).end('bundle not available\n')
      return
    }
    const body = `${JSON.stringify({ ...lastGood.bundle.toJwks(lastGood.sequence), spiffe_refresh_hint: hint }, null, 2)}\n`
    res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store', 'content-length': Buffer.byteLength(body) })
    res.end(req.method === 'HEAD' ? undefined : body)
  }
  const server: Server = createServer({ cert: opts.certPem, key: opts.keyPem, minVersion: 'TLSv1.2' }, (req, res) => {
    handle(req, res).catch((err: unknown) => {
      opts.onError?.(err)
      if (!res.headersSent) res.writeHead(500).end()
    })
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) => {
      reject(controlError('ERR_SPIFFE_CONTROL_LISTEN',
        `bundle endpoint cannot listen on ${quote(formatHostPort(opts.listen.host, opts.listen.port))}: ${err.message}`, { cause: err }))
    })
    server.listen(opts.listen.port, opts.listen.host, resolve)
  })
  const address = server.address() as AddressInfo
  return {
    url: `https://${formatHostPort(address.address, address.port)}`,
    address,
    async close () {
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => { resolve() }))
    }
  }
}
