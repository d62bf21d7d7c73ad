// Shared fixtures of the inbound (serverTlsPolicy) tests: a plain HTTP application that counts
// what reaches it, a client that calls an inbound listener with any certificate, and the
// conformance client certificates a REJECT_INVALID listener must refuse.
import { once } from 'node:events'
import http, { type IncomingHttpHeaders } from 'node:http'
import https from 'node:https'
import type { AddressInfo } from 'node:net'
import { createSubordinateCa, issueCertificate, issueSvidCertificate } from '../src/pki/index.ts'
import type { Domain } from './tls-fixtures.ts'
import { makeSvid } from './tls-fixtures.ts'

/** A plain HTTP/1.1 application on loopback that records every request it receives. */
export interface CountingApp {
  port: number
  requests: Array<{ method: string, url: string, headers: IncomingHttpHeaders }>
  close: () => Promise<void>
}

/** Starts the application: it answers `app saw <url>` and keeps the request's headers. */
export async function startCountingApp (): Promise<CountingApp> {
  const requests: CountingApp['requests'] = []
  const server = http.createServer((req, res) => {
    requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers })
    req.resume()
    req.once('end', () => { res.end(`app saw ${req.url ?? ''}`) })
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  return {
    port: (server.address() as AddressInfo).port,
    requests,
    close: async () => { server.closeAllConnections(); server.close(); await once(server, 'close') }
  }
}

/** A client certificate (chain and key), or none. */
export interface ClientCert { cert: string, key: string }

/** What one call got: the status and body, or the error that ended it. */
export type CallResult = { status: number, body: string, headers: IncomingHttpHeaders } | { error: string }

/** Calls `https://127.0.0.1:port/path` once over a new connection presenting `client`. */
export async function call (port: number, client: ClientCert | undefined, opts: { path?: string, headers?: Record<string, string>, maxVersion?: 'TLSv1.2' | 'TLSv1.3' } = {}): Promise<CallResult> {
  return await new Promise((resolve) => {
    const req = https.request({
      host: '127.0.0.1', port, path: opts.path ?? '/', agent: false, rejectUnauthorized: false,
      ...(opts.maxVersion === undefined ? {} : { maxVersion: opts.maxVersion }),
      ...(client === undefined ? {} : { cert: client.cert, key: client.key }),
      headers: opts.headers ?? {}
    }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (d: string) => { body += d })
      res.on('end', () => { resolve({ status: res.statusCode ?? 0, body, headers: res.headers }) })
      res.on('error', (err) => { resolve({ error: err.message }) })
    })
    req.on('error', (err: Error & { code?: string }) => { resolve({ error: err.code ?? err.message }) })
    req.end()
  })
}

/**
 * Returns the client certificates of the X509-SVID conformance cases that must be refused, each
 * with the rule (verification code) it breaks. `own` is the listener's trusted domain, `other`
 * a second trusted one, `unknown` a domain without a bundle at the listener.
 */
export async function conformanceClients (own: Domain, other: Domain, unknown: Domain): Promise<Array<{ name: string, client: ClientCert | undefined }>> {
  const now = Date.now()
  const twoUris = await issueCertificate(own.ca, { uris: [`spiffe://${own.name}/a`, `spiffe://${own.name}/b`], notBefore: now - 60_000 })
  const caLeaf = await issueCertificate(own.ca, { uris: [`spiffe://${own.name}/ca`], isCa: true, notBefore: now - 60_000 })
  const expired = await makeSvid(own, '/expired', { notBefore: now - 7_200_000, lifetimeMs: 3_600_000 })
  const future = await makeSvid(own, '/future', { notBefore: now + 3_600_000 })
  const foreignSub = await createSubordinateCa(other.ca, { subject: `CN=${other.name} intermediate`, keyAlgorithm: 'ECDSA_P256' })
  const crossed = await issueSvidCertificate(foreignSub, { uri: `spiffe://${own.name}/crossed`, lifetimeMs: 3_600_000, notBefore: now - 60_000 })
  const stranger = await makeSvid(unknown, '/stranger')
  return [
    { name: 'two URI SANs', client: { cert: twoUris.chainPem, key: twoUris.keyPem } },
    { name: 'a CA certificate as leaf', client: { cert: caLeaf.chainPem, key: caLeaf.keyPem } },
    { name: 'expired', client: { cert: expired.chainPem(), key: expired.privateKeyPem() } },
    { name: 'not yet valid', client: { cert: future.chainPem(), key: future.privateKeyPem() } },
    { name: 'chain through another domain\'s intermediate', client: { cert: crossed.chainPem, key: crossed.keyPem } },
    { name: 'a domain with no bundle', client: { cert: stranger.chainPem(), key: stranger.privateKeyPem() } },
    { name: 'no certificate', client: undefined }
  ]
}
