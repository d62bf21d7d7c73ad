import type { Agent } from 'undici'
import { quote } from '../internal/errors.ts'
import { GCE_WORKLOAD_CERTIFICATES_PATH } from './gce-files.ts'
import { METADATA_REQUEST_TIMEOUT_MS } from '../defaults.ts'
import { credentialsError } from './errors.ts'

/** The three workload-certificate endpoints (seed 003). */
export type MetadataEndpoint = 'workload-identities' | 'trust-anchors' | 'config-status'

/** One endpoint's answer: the status code and the body text. */
export interface MetadataResponse { status: number, body: string, url: string }

/** The metadata server's root when none is configured (resolved inside a GCE VM). */
export const DEFAULT_METADATA_ROOT = 'http://metadata.google.internal'

/**
 * Returns the base URL of the workload-certificate endpoints for `url`, which may be the
 * metadata server's root (`http://metadata.google.internal`) or already the endpoints' base
 * (`…/computeMetadata/v1/instance/gce-workload-certificates`). No trailing slash.
 */
export function workloadCertificatesBase (url: string): string {
  let u: URL
  try {
    u = new URL(url)
  } catch (err) {
    throw credentialsError('ERR_SPIFFE_CREDENTIALS_BAD_URL', `metadata url ${quote(url)} is not a url`, { cause: err })
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') {
    throw credentialsError('ERR_SPIFFE_CREDENTIALS_BAD_URL', `metadata url ${quote(url)} is not http or https`)
  }
  const path = u.pathname.replace(/\/+$/, '')
  u.pathname = path.endsWith('/gce-workload-certificates') ? path : `${path}${GCE_WORKLOAD_CERTIFICATES_PATH}`
  return u.toString().replace(/\/+$/, '')
}

/**
 * A small client for the metadata server's workload-certificate endpoints: sends
 * `Metadata-Flavor: Google`, bounds every request by `timeoutMs` (headers and body), and owns
 * its connection pool so {@link close} leaves no socket behind.
 */
export class MetadataClient {
  readonly base: string
  readonly #timeoutMs: number
  /** Made on the first request: loading undici costs memory a process without this source never needs. */
  #agent: Agent | undefined
  readonly #abort = new AbortController()

  constructor (url: string, opts: { timeoutMs?: number } = {}) {
    this.base = workloadCertificatesBase(url)
    this.#timeoutMs = opts.timeoutMs ?? METADATA_REQUEST_TIMEOUT_MS
  }

  /** Returns the answer of one endpoint; throws `ERR_SPIFFE_CREDENTIALS_METADATA_UNREACHABLE` on network errors and timeouts. */
  async get (endpoint: MetadataEndpoint): Promise<MetadataResponse> {
    const url = `${this.base}/${endpoint}`
    try {
      const { Agent, request } = await import('undici')
      this.#agent ??= new Agent({ keepAliveTimeout: 1000, connectTimeout: this.#timeoutMs })
      const res = await request(url, {
        method: 'GET',
        headers: { 'metadata-flavor': 'Google' },
        dispatcher: this.#agent,
        headersTimeout: this.#timeoutMs,
        bodyTimeout: this.#timeoutMs,
        signal: this.#abort.signal
      })
      return { status: res.statusCode, body: await res.body.text(), url }
    } catch (err) {
      throw credentialsError('ERR_SPIFFE_CREDENTIALS_METADATA_UNREACHABLE',
        `metadata request ${quote(url)} failed: ${(err as Error).message}`, { at: url, cause: err })
    }
  }

  /** Aborts requests in flight and closes every connection. */
  async close (): Promise<void> {
    this.#abort.abort()
    await this.#agent?.destroy().catch(() => {})
  }
}
