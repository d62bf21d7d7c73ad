// Public API of src/tls: the backend connector (client mTLS with SPIFFE verification and a
// generation-keyed session cache), the SPIFFE TLS server for test backends, peer identity.
export { createBackendConnector } from './backend-connector.ts'
export type { BackendConnector, BackendConnectorOptions, ConnectCallback, ConnectOptions, HandshakeEvent } from './connector-types.ts'
export type { CredentialChange, CredentialChanges } from './credential-changes.ts'
export { createSpiffeTlsServer, serverTlsOptions } from './server-options.ts'
export type { RejectEvent, SpiffeTlsServerOptions } from './server-options.ts'
export { startEchoBackend, parseListen } from './echo-backend.ts'
export type { EchoBackend, EchoBackendOptions, EchoBackendStats } from './echo-backend.ts'
export { peerIdentity, verifiedPeer } from './peer-identity.ts'
export type { VerifiedPeer } from './peer-identity.ts'
export { TLS_ERROR, TlsPeerRejectedError } from './errors.ts'
export type { TlsErrorCode } from './errors.ts'
export type { SecureContextFactory, TlsParameters } from './context-cache.ts'
