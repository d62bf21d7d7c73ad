// Public API of src/control: the local control plane (CA pools on disk, an emulated GCE metadata
// server, and the agent that writes the GCE credential-file layout).
export { caPoolDir, CA_FILES, loadCaDir } from './ca-layout.ts'
export { openCaPool } from './ca-pool-store.ts'
export type { CaPool, CaPoolOptions } from './ca-pool-store.ts'
export { firstManagedIdentity, openPoolIssuance, poolTrustAnchors } from './pool-issuance.ts'
export type { PoolIssuance } from './pool-issuance.ts'
export { createMetadataServer } from './metadata-server.ts'
export type { MetadataServer, MetadataServerFaults, MetadataServerOptions } from './metadata-server.ts'
export type { IssueParams, IssuedPem, RotationPolicy } from './rotating-credential.ts'
export { runAgent } from './agent.ts'
export type { AgentHandle, AgentOptions, AgentRefreshResult } from './agent.ts'
export { writeCredentialGeneration } from './credential-writer.ts'
export type { CredentialFiles } from './credential-writer.ts'
