import { errorDoc as e, errorFactory, type ErrorRegistry, type RegistryOwner } from '../internal/errors.ts'

/**
 * Codes of the runtime that `serve` and `up` start (`SERVE`): the routing plan, the cluster
 * workers, and the listeners that cannot open.
 */
export const SERVE_ERRORS = {
  ERR_SPIFFE_SERVE_NO_SERVICES: e('the config defines no backend services to forward to', 'a config with only pools and trust', 'add a backend service, or use `metadata-server` for a control-plane-only setup'),
  ERR_SPIFFE_SERVE_NO_IDENTITY: e('a backend service has no tlsSettings.identity; spiffe-lb forwards only over spiffe mtls', 'a backend service without a managed identity', 'set tlsSettings.identity to a managed identity of the config'),
  ERR_SPIFFE_SERVE_INBOUND_NO_TRUST: e('frontend.serverTlsPolicy takes its certificate from files, but no managed identity of the config brings the trust bundles client certificates are verified against', 'an inbound-only config with serverCertificate.certFile and only protocol HTTP services', 'use serverCertificate.identity, or give a backend service a tlsSettings.identity whose credentials carry the bundles'),
  ERR_SPIFFE_SERVE_INBOUND_WORKERS: e('`serve --workers` was given a config with frontend.serverTlsPolicy; the inbound listener runs in a single process only', 'an inbound config started as a cluster', 'run `serve` without --workers for an inbound listener'),
  ERR_SPIFFE_SERVE_NEW_IDENTITY: e('a reload uses an identity that was not loaded at start', 'a backend service with a new identity added while serving', 'restart `serve` to add identities'),
  ERR_SPIFFE_SERVE_WORKER_START: e('a proxy worker failed to start', 'the frontend port is in use, or the worker could not load the config', 'read the message; the primary restarts workers with backoff'),
  ERR_SPIFFE_SERVE_WORKER_NOT_STARTED: e('a worker was asked for status or metrics before its proxy started', 'a /status or /metrics read while a worker is starting', 'retry; /readyz says when every worker runs'),
  ERR_SPIFFE_SERVE_WORKER_REQUEST: e('a worker failed to answer a primary\'s request with an error that has no code of its own', 'an unexpected fault in the worker', 'read the message; report it if it repeats'),
  ERR_SPIFFE_SERVE_WORKER_DOWN: e('a worker is stopped or (re)starting, so it cannot answer', 'a worker that crashed and is being restarted', 'wait for the restart; check the logs for why it exited'),
  ERR_SPIFFE_SERVE_WORKER_EXITED: e('a worker exited before it answered', 'a worker crash', 'check the logs for why it exited; it is restarted with backoff'),
  ERR_SPIFFE_SERVE_WORKER_TIMEOUT: e('a worker did not answer the primary in time', 'a worker stuck or overloaded', 'check the worker\'s cpu and logs'),
  ERR_SPIFFE_SERVE_ADDRESS_IN_USE: e('a listener cannot open: another process listens on that address', 'a second `npm start` or a leftover `serve`', 'stop it or choose another port (--port, --listen, frontend.listen)'),
  ERR_SPIFFE_SERVE_LISTEN_DENIED: e('a listener cannot open: this user may not listen on that port', 'a port below 1024 without the privilege', 'use a port of 1024 or above'),
  ERR_SPIFFE_SERVE_ADDRESS_UNAVAILABLE: e('a listener cannot open: the host is not an address of this machine', 'a foreign or mistyped ip address', 'listen on one of its addresses (127.0.0.1, 0.0.0.0)')
} as const satisfies ErrorRegistry

/** One of the {@link SERVE_ERRORS} codes. */
export type ServeErrorCode = keyof typeof SERVE_ERRORS

/** Makes an error with one of the {@link SERVE_ERRORS} codes. */
export const serveError = errorFactory(SERVE_ERRORS)

/** `src/runtime` owns the `SERVE` prefix: the long-running process. */
export const SERVE_ERROR_REGISTRY: RegistryOwner = { folder: 'runtime', prefixes: ['SERVE'], codes: SERVE_ERRORS }
