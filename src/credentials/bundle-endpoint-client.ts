import { X509Certificate } from 'node:crypto'
import { isIP } from 'node:net'
import type { TLSSocket } from 'node:tls'
import type { buildConnector } from 'undici'
import { FEDERATION_MAX_BUNDLE_BYTES, FEDERATION_REQUEST_TIMEOUT_MS } from '../defaults.ts'
import { isSpiffeLbError, quote } from '../internal/errors.ts'
import { BundleSet } from '../spiffe/bundle-set.ts'
import type { SpiffeId } from '../spiffe/spiffe-id.ts'
import type { TrustDomain } from '../spiffe/trust-domain.ts'
import { verifyX509Svid } from '../spiffe/verify-x509-svid.ts'
import type { X509Bundle } from '../spiffe/x509-bundle.ts'
import { credentialsError } from './errors.ts'
import { parseStrictJson } from './strict-json.ts'

/**
 * A federated trust domain's SPIFFE bundle endpoint and how it is authenticated
 * (SPIFFE Federation §5.2): `https_web` by web PKI (`caPem`, or the system roots) with the
 * url's host as server name; `https_spiffe` by the server's X509-SVID, which must carry
 * `endpointSpiffeId` and verify against the bundle of that ID's trust domain.
 * https://github.com/spiffe/spiffe/blob/main/standards/SPIFFE_Federation.md#52-endpoint-profiles
 */
export type BundleEndpointTarget = {
  trustDomain: TrustDomain
  url: string
} & ({ profile: 'https_web', caPem?: string } | { profile: 'https_spiffe', endpointSpiffeId: SpiffeId })

/** Fetches one bundle document; `endpointBundle` authenticates an https_spiffe endpoint. */
export type BundleFetcher = (endpointBundle: X509Bundle | undefined) => Promise<unknown>

// OpenSSL's verdicts on a server certificate (node error codes): the endpoint is not trusted.
const CERT_ERRORS = /^(?:ERR_TLS_CERT_ALTNAME_INVALID|UNABLE_TO_|DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|CERT_|ERR_SSL_)/

/**
 * Returns a fetcher of `target`'s bundle document: one GET with undici, no redirects, bounded
 * by `timeoutMs` and {@link FEDERATION_MAX_BUNDLE_BYTES}, parsed as strict JSON (the caller
 * parses it as a SPIFFE bundle). Each call opens its own connection and closes it, so a
 * changed endpoint bundle is used for the next fetch. Throws
 * `ERR_SPIFFE_CREDENTIALS_BUNDLE_ENDPOINT_*` (unreachable, untrusted, wrong id, http status,
 * too large) or `ERR_SPIFFE_CREDENTIALS_BAD_JSON`.
 */
export function bundleEndpointFetcher (target: BundleEndpointTarget, timeoutMs = FEDERATION_REQUEST_TIMEOUT_MS): BundleFetcher {
  const url = new URL(target.url)
  const host = url.hostname.replace(/^\[|\]$/g, '')
  return async (endpointBundle) => {
    // Loaded here: a process without federation never needs undici's memory.
    const { Agent, buildConnector, request } = await import('undici')
    const agent = new Agent({ connect: connectorFor(buildConnector, target, endpointBundle, host, timeoutMs), connections: 1 })
    try {
      const res = await request(url, { dispatcher: agent, method: 'GET', headersTimeout: timeoutMs, bodyTimeout: timeoutMs, headers: { accept: 'application/json' } })
      if (res.statusCode !== 200) {
        await res.body.dump()
        throw credentialsError('ERR_SPIFFE_CREDENTIALS_BUNDLE_ENDPOINT_HTTP',
          `bundle endpoint ${quote(target.url)} of trust domain ${quote(target.trustDomain.name)} answered http ${res.statusCode}`, { at: target.url })
      }
      const chunks: Buffer[] = []
      let size = 0
      for await (const chunk of res.body) {
        size += (chunk as Buffer).length
        if (size > FEDERATION_MAX_BUNDLE_BYTES) {
          res.body.destroy()
          throw credentialsError('ERR_SPIFFE_CREDENTIALS_BUNDLE_ENDPOINT_TOO_LARGE',
            `bundle endpoint ${quote(target.url)} sent more than ${FEDERATION_MAX_BUNDLE_BYTES} bytes`, { at: target.url })
        }
        chunks.push(chunk as Buffer)
      }
      return parseStrictJson(Buffer.concat(chunks).toString('utf8'), target.url)
    } catch (err) {
      throw describeFailure(target, err)
    } finally {
      await agent.destroy().catch(() => {})
    }
  }
}

function connectorFor (build: typeof buildConnector, target: BundleEndpointTarget, endpointBundle: X509Bundle | undefined, host: string, timeoutMs: number): buildConnector.connector {
  const servername = isIP(host) === 0 ? host : undefined
  if (target.profile === 'https_web') {
    return build({ timeout: timeoutMs, ...(target.caPem === undefined ? {} : { ca: target.caPem }), ...(servername === undefined ? {} : { servername }) })
  }
  // https_spiffe: web PKI does not apply; the SVID is checked below, against one bundle.
  const base = build({ timeout: timeoutMs, rejectUnauthorized: false, ...(servername === undefined ? {} : { servername }) })
  const expected = target.endpointSpiffeId
  return (opts, callback) => base(opts, (err, socket) => {
    if (err !== null) { callback(err, null); return }
    try {
      checkEndpointSvid(socket as TLSSocket, expected, endpointBundle, target.url)
    } catch (failure) {
      socket.destroy()
      callback(failure as Error, null)
      return
    }
    callback(null, socket)
  })
}

/** Throws unless the server's X509-SVID verifies against `bundle` and carries `expected`. */
function checkEndpointSvid (socket: TLSSocket, expected: SpiffeId, bundle: X509Bundle | undefined, url: string): void {
  if (bundle === undefined) {
    throw credentialsError('ERR_SPIFFE_CREDENTIALS_BUNDLE_ENDPOINT_UNTRUSTED',
      `no bundle of trust domain ${quote(expected.trustDomain.name)} to authenticate bundle endpoint ${quote(url)}`, { at: url })
  }
  const chain: X509Certificate[] = []
  let cert = socket.getPeerCertificate(true)
  while (cert?.raw !== undefined && chain.length < 10) {
    chain.push(new X509Certificate(cert.raw))
    if (cert.issuerCertificate === undefined || cert.issuerCertificate === cert) break
    cert = cert.issuerCertificate
  }
  let id: SpiffeId
  try {
    id = verifyX509Svid(chain, BundleSet.of([bundle]), { role: 'server' }).id
  } catch (err) {
    const why = isSpiffeLbError(err) ? `${err.message} (${err.code})` : String(err)
    throw credentialsError('ERR_SPIFFE_CREDENTIALS_BUNDLE_ENDPOINT_UNTRUSTED',
      `bundle endpoint ${quote(url)} is not authenticated by the bundle of ${quote(expected.trustDomain.name)}: ${why}`, { at: url, cause: err })
  }
  if (!id.equals(expected)) {
    throw credentialsError('ERR_SPIFFE_CREDENTIALS_BUNDLE_ENDPOINT_ID_MISMATCH',
      `bundle endpoint ${quote(url)} presented ${quote(id.toString())}, expected endpointSpiffeId ${quote(expected.toString())}`, { at: url })
  }
}

/** Returns `err` as a coded error naming the endpoint: coded ones as they are, tls verdicts as untrusted, the rest unreachable. */
function describeFailure (target: BundleEndpointTarget, err: unknown): Error {
  if (isSpiffeLbError(err)) return err
  const code = (err as NodeJS.ErrnoException).code ?? ''
  const why = `${code === '' ? '' : `${code}: `}${err instanceof Error ? err.message : String(err)}`
  if (CERT_ERRORS.test(code)) {
    return credentialsError('ERR_SPIFFE_CREDENTIALS_BUNDLE_ENDPOINT_UNTRUSTED',
      `bundle endpoint ${quote(target.url)} of trust domain ${quote(target.trustDomain.name)} is not trusted (web pki): ${why}`, { at: target.url, cause: err })
  }
  return credentialsError('ERR_SPIFFE_CREDENTIALS_BUNDLE_ENDPOINT_UNREACHABLE',
    `bundle endpoint ${quote(target.url)} of trust domain ${quote(target.trustDomain.name)} could not be fetched: ${why}`, { at: target.url, cause: err })
}
