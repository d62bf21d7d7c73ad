import tls from 'node:tls'
import type { SecureContext, SecureContextOptions, SecureVersion } from 'node:tls'
import { quote } from '../internal/errors.ts'
import type { X509Snapshot } from '../spiffe/snapshot.ts'
import { tlsError } from './errors.ts'

/** Builds a `SecureContext`; injectable so tests can count how often contexts are built. */
export type SecureContextFactory = (options: SecureContextOptions) => SecureContext

/** TLS parameters shared by every context of one connector or server. */
export interface TlsParameters {
  /** Lowest protocol version accepted; default `TLSv1.2`. */
  minVersion?: SecureVersion
  /** Highest protocol version offered; default `TLSv1.3` (preferred when both sides have it). */
  maxVersion?: SecureVersion
  /** Key-exchange groups in preference order (OpenSSL names, e.g. `X25519`, `P-256`). */
  groups?: readonly string[]
}

const VERSIONS: readonly SecureVersion[] = ['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3']

/**
 * Throws `ERR_SPIFFE_TLS_BAD_PARAMETERS` when `params` cannot work: a version below TLS 1.2
 * (docs/architecture.md#security-model: TLS 1.2 is the floor), min above max, or a key-exchange group OpenSSL does not
 * know. Checked once when a connector or server is created, not on the first handshake.
 */
export function checkTlsParameters (params: TlsParameters): void {
  const min = params.minVersion ?? 'TLSv1.2'
  const max = params.maxVersion ?? 'TLSv1.3'
  const fail = (message: string, cause?: unknown): never => {
    throw tlsError('ERR_SPIFFE_TLS_BAD_PARAMETERS', message, { at: 'tls', cause })
  }
  if (VERSIONS.indexOf(min) < 2) fail(`minVersion ${quote(min)} is below the TLSv1.2 floor`)
  if (VERSIONS.indexOf(max) < VERSIONS.indexOf(min)) fail(`maxVersion ${quote(max)} is below minVersion ${quote(min)}`)
  if (params.groups !== undefined && params.groups.length > 0) {
    try {
      tls.createSecureContext({ ecdhCurve: params.groups.join(':') })
    } catch (err) {
      fail(`key-exchange groups ${quote(params.groups.join(':'))} are not all known to openssl`, err)
    }
  }
}

/**
 * Returns the `SecureContextOptions` presenting `snapshot`'s SVID (chain and key) with `params`.
 * `ca: []` keeps OpenSSL's store empty: SPIFFE verification is done by us per trust domain
 * (docs/architecture.md#security-model), never against one pooled or public CA list.
 */
export function contextOptions (snapshot: X509Snapshot, params: TlsParameters): SecureContextOptions {
  const options: SecureContextOptions = {
    cert: snapshot.svid.chainPem(),
    key: snapshot.svid.privateKeyPem(),
    ca: [],
    minVersion: params.minVersion ?? 'TLSv1.2',
    maxVersion: params.maxVersion ?? 'TLSv1.3'
  }
  if (params.groups !== undefined && params.groups.length > 0) options.ecdhCurve = params.groups.join(':')
  return options
}

/**
 * Holds the client `SecureContext` of the SVID in force. A context is built once per
 * `svidGeneration` (docs/architecture.md#layers, hot path rules): trust changes do not touch it, because
 * trust is checked by us after the handshake, not by OpenSSL.
 */
export class SecureContextCache {
  readonly #params: TlsParameters
  readonly #factory: SecureContextFactory
  #generation = -1
  #context: SecureContext | undefined

  constructor (params: TlsParameters, factory: SecureContextFactory = tls.createSecureContext) {
    this.#params = params
    this.#factory = factory
  }

  /** Returns the context for `snapshot`, building it if its SVID generation is new. */
  get (snapshot: X509Snapshot): SecureContext {
    if (this.#context !== undefined && this.#generation === snapshot.svidGeneration) return this.#context
    const context = this.#factory(contextOptions(snapshot, this.#params))
    // An older snapshot captured by an in-flight handshake must not replace a newer context.
    if (snapshot.svidGeneration >= this.#generation) {
      this.#generation = snapshot.svidGeneration
      this.#context = context
    }
    return context
  }

  /** The SVID generation of the cached context, or -1 when none was built yet. */
  get generation (): number { return this.#generation }
}
