import { X509Certificate, generateKeyPairSync } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { http } from '../internal/node-http.ts'
import type { AddressInfo } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import { systemClock, type Clock } from '../internal/clock.ts'
import { quote } from '../internal/errors.ts'
import { GCE_WORKLOAD_CERTIFICATES_PATH } from '../credentials/gce-files.ts'
import { configStatusDocument, trustAnchorsDocument, workloadIdentitiesDocument } from '../credentials/metadata-documents.ts'
import { RotatingCredential, type IssueParams, type IssuedPem, type RotationPolicy } from './rotating-credential.ts'
import { controlError } from './errors.ts'
import { RSA_MODULUS_BITS } from '../defaults.ts'
import { formatHostPort } from '../internal/host-port.ts'

const { createServer } = http

/** Misbehaviour a test can switch on and off at run time (the object is live). */
export interface MetadataServerFaults {
  /** Serve a private key that does not belong to the certificate. */
  mismatchedKey?: boolean
  /** Serve an expired certificate (issued with a validity period in the past). */
  expiredCert?: boolean
  /** Answer every workload-certificate endpoint with this HTTP status, e.g. 500. */
  httpStatus?: number
  /** Wait this long (real ms) before answering: a slow metadata server. */
  delayMs?: number
  /** Report these partner metadata errors on config-status. */
  configErrors?: Record<string, string>
}

/** Options of {@link createMetadataServer}. */
export interface MetadataServerOptions {
  /** Where to listen: `{ host, port }` (port 0 = any). Loopback only in tests. */
  listen: { host: string, port: number }
  /** The SPIFFE ID the instance gets (key of `workloadCredentials`). */
  identity: string
  /** Issues a chain (leaf first, no root) and key; `notBefore`/`lifetimeMs` follow the rotation policy. */
  issue: (p: IssueParams) => Promise<IssuedPem>
  /** Trust domain name → PEM roots, read on every request (so trust changes show at once). */
  trustAnchors: () => ReadonlyMap<string, string>
  /** The CIC's lifetime and rotation window; tests compress the lifetime to seconds. */
  rotation: RotationPolicy
  clock?: Clock
  faults?: MetadataServerFaults
  /** Delay before the first issuance (clock ms, default 0): until then every endpoint answers 412. */
  firstIssueDelayMs?: number
  /** Called with issuance errors (the server keeps retrying). */
  onError?: (err: unknown) => void
}

/** A running emulated metadata server. */
export interface MetadataServer {
  /** The server root, e.g. `http://127.0.0.1:8181` (what the agent's `--metadata` takes). */
  readonly url: string
  /** `url` + `/computeMetadata/v1/instance/gce-workload-certificates`. */
  readonly base: string
  /** The live fault switches. */
  readonly faults: MetadataServerFaults
  /** Serial of the credential being served (1 after the first issuance), 0 before. */
  readonly serial: number
  /** When the next rotation is planned (clock ms). */
  readonly nextRotationAt: number | undefined
  /** Issues a new credential now. */
  rotateNow (): Promise<void>
  close (): Promise<void>
}

/**
 * Starts an emulated GCE metadata server serving the three workload-certificate endpoints of
 * seed 003 at `/computeMetadata/v1/instance/gce-workload-certificates/…`, with their JSON shapes.
 * Like the real one it requires `Metadata-Flavor: Google` (403 otherwise), answers 412 until
 * the instance's identity was issued, 404 for any other path, and rotates the credential per
 * the rotation policy. Returns once listening.
 */
export async function createMetadataServer (opts: MetadataServerOptions): Promise<MetadataServer> {
  const clock = opts.clock ?? systemClock
  const faults: MetadataServerFaults = opts.faults ?? {}
  const credential = new RotatingCredential({ issue: opts.issue, policy: opts.rotation, clock, onError: opts.onError ?? (() => {}) })
  const abort = new AbortController()
  const extras = new Map<string, IssuedPem>()

  const served = async (): Promise<IssuedPem | undefined> => {
    const cur = credential.current()
    if (cur === undefined) return undefined
    if (faults.expiredCert === true) {
      const key = `expired:${cur.serial}`
      let pem = extras.get(key)
      if (pem === undefined) {
        const lifetimeMs = Math.max(2000, opts.rotation.lifetimeMs)
        pem = await credential.issueExtra({ notBefore: clock.now() - 2 * lifetimeMs, lifetimeMs })
        extras.set(key, pem)
      }
      return pem
    }
    if (faults.mismatchedKey === true) return { chainPem: cur.chainPem, keyPem: otherKeyPem(cur.chainPem) }
    return cur
  }

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = (req.url ?? '/').split('?')[0] ?? '/'
    const prefix = `${GCE_WORKLOAD_CERTIFICATES_PATH}/`
    const endpoint = path.startsWith(prefix) ? path.slice(prefix.length) : ''
    if (!['workload-identities', 'trust-anchors', 'config-status'].includes(endpoint)) return send(res, 404, 'not found\n')
    if (req.headers['metadata-flavor'] !== 'Google') return send(res, 403, 'missing Metadata-Flavor: Google header\n')
    if (req.method !== 'GET') return send(res, 405, 'method not allowed\n')
    if (faults.delayMs !== undefined && faults.delayMs > 0) await sleep(faults.delayMs, undefined, { signal: abort.signal })
    if (faults.httpStatus !== undefined) return send(res, faults.httpStatus, 'injected fault\n')
    const pem = await served()
    if (pem === undefined) return send(res, 412, 'workload certificates are not provisioned yet\n')
    if (endpoint === 'workload-identities') return sendJson(res, workloadIdentitiesDocument(opts.identity, pem.chainPem, pem.keyPem))
    if (endpoint === 'trust-anchors') return sendJson(res, trustAnchorsDocument(opts.trustAnchors()))
    return sendJson(res, configStatusDocument(faults.configErrors))
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent && !res.destroyed) send(res, 500, `internal error: ${String(err)}\n`)
    })
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) => {
      reject(controlError('ERR_SPIFFE_CONTROL_LISTEN',
        `metadata server cannot listen on ${quote(formatHostPort(opts.listen.host, opts.listen.port))}: ${err.message}`, { cause: err }))
    })
    server.listen(opts.listen.port, opts.listen.host, resolve)
  })
  const addr = server.address() as AddressInfo
  const url = `http://${formatHostPort(addr.address, addr.port)}`
  credential.start(opts.firstIssueDelayMs ?? 0)

  return {
    url,
    base: `${url}${GCE_WORKLOAD_CERTIFICATES_PATH}`,
    faults,
    get serial () { return credential.current()?.serial ?? 0 },
    get nextRotationAt () { return credential.nextRotationAt },
    rotateNow: async () => { await credential.rotateNow() },
    close: async () => {
      abort.abort()
      await credential.stop()
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => { resolve() }))
    }
  }
}

function send (res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'metadata-flavor': 'Google' })
  res.end(body)
}

function sendJson (res: ServerResponse, doc: object): void {
  res.writeHead(200, { 'content-type': 'application/json', 'metadata-flavor': 'Google' })
  res.end(JSON.stringify(doc))
}

/** Returns a fresh private key of the same kind as the leaf's key (the mismatched-key fault). */
function otherKeyPem (chainPem: string): string {
  const leaf = new X509Certificate(chainPem)
  const details = leaf.publicKey.asymmetricKeyDetails ?? {}
  const { privateKey } = leaf.publicKey.asymmetricKeyType === 'rsa'
    ? generateKeyPairSync('rsa', { modulusLength: details.modulusLength ?? RSA_MODULUS_BITS })
    : generateKeyPairSync('ec', { namedCurve: details.namedCurve ?? 'prime256v1' })
  return privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()
}
