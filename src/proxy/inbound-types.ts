/**
 * The option types of the inbound listener (`frontend.serverTlsPolicy`): the client verifier and
 * mode it runs with, what it reports per judged client, and the custom request headers it feeds.
 */
import type { ClientCertVariable, ClientValidationMode } from '../enums.ts'
import type { Clock } from '../internal/clock.ts'
import type { ClientVerdict, ClientVerifier } from '../tls/client-verifier.ts'

/** One custom request header: lowercase name and its value template. */
export interface CustomHeader {
  name: string
  parts: ReadonlyArray<{ text: string } | { variable: ClientCertVariable }>
}

/** One judged client connection, for logs and metrics. */
export interface InboundEvent {
  /** `accepted` (verified and allowed), `forwarded` (ALLOW mode: invalid or missing, forwarded),
   * `not-allowed` (verified, outside allowedPeers), `refused` (closed at once), `ended` (an open
   * connection ended by a trust change or by expiry). */
  outcome: 'accepted' | 'forwarded' | 'not-allowed' | 'refused' | 'ended'
  /** `address:port` of the client. */
  client: string
  verdict: ClientVerdict
}

/** The inbound side of the TLS frontend (`frontend.serverTlsPolicy`, see inbound-tls.ts). */
export interface InboundTlsOptions {
  verifier: ClientVerifier
  mode: ClientValidationMode
  clock: Clock
  onEvent?: (event: InboundEvent) => void
}

