// Public API of src/config: the resource model, loading and validation (config/schema.ts),
// attestation, derived resources, reload rules and `describe`.
export { parseConfig, loadConfigFile, loadConfig } from './load.ts'
export type { ConfigResult, ParseOptions } from './load.ts'
export { ConfigError, formatIssue, formatPath } from './issues.ts'
export type { ConfigIssue } from './issues.ts'
export type {
  SpiffeLbConfig, CaPoolConfig, WorkloadIdentityPoolConfig, CertificateIssuanceConfig, ManagedIdentityConfig,
  ResolvedIdentity, BackendServiceConfig, LocalityLbPolicy, UrlMapConfig, CredentialsConfig, CredentialSourceKind
} from './types.ts'
export type { HostPort } from '../internal/host-port.ts'
export { parseDuration } from './values.ts'
export { formatDuration } from '../internal/duration.ts'
export { parseIdentity, parseManagedIdentity, poolTrustDomain, identityName } from './identity.ts'
export { checkAttestation, matchesAttestationRule, findManagedIdentity, backendServiceResource } from './attestation.ts'
export { deriveResources, derivedId } from './derived.ts'
export type { DeriveInputs, DerivedResources, SpiffeTrustStore } from './derived.ts'
export { reloadConfig } from './reload.ts'
export type { ReloadInput, ReloadResult } from './reload.ts'
export { renderDescribe, describeResources, parseDescribeKind, toYaml, DESCRIBE_KINDS } from './describe.ts'
export type { DescribeKind, DescribeOptions, DescribedResource } from './describe.ts'
export { readDeriveInputs } from './state-view.ts'
export type { ControlPlaneStateView } from './state-view.ts'
export { findCaPool } from './validate-ca-pools.ts'
export { uuidV5 } from './uuid.ts'
