import { backendServiceResource, checkAttestation } from '../config/attestation.ts'
import type { BackendServiceConfig, SpiffeLbConfig } from '../config/types.ts'
import { join } from 'node:path'
import { GCE_FILES } from '../credentials/gce-files.ts'
import { keyFileWarning } from '../credentials/key-file-mode.ts'
import { readCredentialFile } from '../credentials/read-file.ts'
import type { CredentialSource } from '../credentials/credential-source.ts'
import { CredentialStore } from '../credentials/store.ts'
import type { Clock } from '../internal/clock.ts'
import { BundleSet } from '../spiffe/bundle-set.ts'
import type { SpiffeId } from '../spiffe/spiffe-id.ts'
import { X509Bundle } from '../spiffe/x509-bundle.ts'
import type { RevocationFeed, DomainCrlInput } from '../credentials/revocation-feed.ts'
import type { Logger } from 'pino'
import { FederatedTrust } from './federated-trust.ts'
import { RotationLog } from './rotation-log.ts'

/** The credentials of one managed identity: the store the TLS layer reads, and what feeds it. */
export interface IdentityCredentials {
  identity: SpiffeId
  store: CredentialStore
  source: CredentialSource
  /** The backend services that present this identity. */
  services: string[]
  /** The CRLs the store enforces per trust domain (config, local CA pool), when any are configured. */
  revocation?: RevocationFeed | undefined
  /** The local CA pool's own CRL input (issuer source), kept across reloads. */
  poolCrl?: DomainCrlInput[]
  /** The configured inline and bundle-endpoint trust (the pool's, or the top-level `trustBundles`). */
  federation?: FederatedTrust
  /** The SVIDs the store accepted since start. */
  rotations?: RotationLog
}

/**
 * Returns a started credential store per distinct backend-service identity, fed by the
 * configured source (docs/architecture.md: issuer, directory, metadata or workload-api). With the local
 * issuer, every service using the identity must pass attestation before anything is signed.
 */
export async function openIdentityCredentials (config: SpiffeLbConfig, clock: Clock, warn?: (message: string) => void, log?: Logger): Promise<IdentityCredentials[]> {
  const out: IdentityCredentials[] = []
  try {
    for (const { identity, services } of identitiesOf(config)) {
      const trust = configuredTrust(config, identity)
      // Made for every identity, with or without endpoints, so a reload may add the first one.
      const federation = await FederatedTrust.open(trust.additionalTrustBundles, trust.bundleEndpoints, clock, log)
      const store = new CredentialStore({ identity, clock, additionalTrustBundles: federation.bundles() })
      federation.attach(store)
      const poolCrl: DomainCrlInput[] = []
      const source = await createSource(config, identity, services, clock, poolCrl).catch((err: unknown) => { federation.stop(); throw err })
      const rotations = new RotationLog()
      rotations.follow(store)
      const creds: IdentityCredentials = { identity, store, source, services: services.map((s) => s.name), poolCrl, rotations, federation }
      out.push(creds)
      await source.start(store)
      const inputs = revocationInputs(config, poolCrl)
      if (inputs.length > 0) {
        const { RevocationFeed } = await import('../credentials/revocation-feed.ts')
        creds.revocation = new RevocationFeed(inputs, store, { clock, ...(warn === undefined ? {} : { warn }) })
        await creds.revocation.start()
      }
    }
  } catch (err) {
    await Promise.all(out.map(async (c) => { c.revocation?.stop(); c.federation?.stop(); await c.source.stop() }))
    throw err
  }
  return out
}

/**
 * Returns the trust configured for `identity`: its pool's `additionalTrustBundles` and bundle
 * endpoints, or, for a SPIFFE ID outside every pool, the top-level `trustBundles`. Either is
 * merged with what the credential source delivers.
 */
export function configuredTrust (config: SpiffeLbConfig, identity: SpiffeId): SpiffeLbConfig['trustBundles'] {
  return config.workloadIdentityPools.find((p) => p.trustDomain.equals(identity.trustDomain)) ?? config.trustBundles
}

/**
 * Loads the CRLs of `config`'s revocation block for every identity whose inputs changed, without
 * putting them in force; throws a coded error when one cannot be used (the reload is refused).
 * Returns the commit: it stops the old feeds and puts the new CRLs in force.
 */
export async function prepareRevocation (credentials: readonly IdentityCredentials[], config: SpiffeLbConfig, clock: Clock,
  warn?: (message: string) => void): Promise<() => void> {
  const next: Array<{ creds: IdentityCredentials, feed: RevocationFeed | undefined }> = []
  for (const creds of credentials) {
    const inputs = revocationInputs(config, creds.poolCrl ?? [])
    if (JSON.stringify(inputs) === JSON.stringify(creds.revocation?.inputs ?? [])) continue
    // The CRL code (and the certificate library it parses with) loads only when a CRL is configured.
    const feed = inputs.length === 0 ? undefined : new (await import('../credentials/revocation-feed.ts')).RevocationFeed(inputs, creds.store, { clock, ...(warn === undefined ? {} : { warn }) })
    await feed?.load()
    next.push({ creds, feed })
  }
  return () => {
    for (const { creds, feed } of next) {
      creds.revocation?.stop()
      creds.revocation = feed
      if (feed === undefined) creds.store.setRevocation(undefined)
      else feed.follow()
    }
  }
}

/**
 * Returns the CRL inputs of one identity's store: the `revocation` block's, then the local CA
 * pool's own CRL (published by `ca revoke`) for the pool's domain, under that domain's policy.
 */
export function revocationInputs (config: SpiffeLbConfig, poolCrl: readonly DomainCrlInput[]): DomainCrlInput[] {
  const configured: DomainCrlInput[] = config.revocation.trustDomains.map((d) => ({ trustDomain: d.trustDomain, files: d.crlFiles, urls: d.crlUrls, staleCrl: d.staleCrl }))
  return [...configured, ...poolCrl.map((p) => ({ ...p, staleCrl: configured.find((c) => c.trustDomain === p.trustDomain)?.staleCrl ?? p.staleCrl }))]
}

/**
 * Returns the backend-service identities of `config`, each with the services that present it
 * (services without an identity are left out).
 */
export function identitiesOf (config: SpiffeLbConfig): Array<{ identity: SpiffeId, services: BackendServiceConfig[] }> {
  const byIdentity = new Map<string, { identity: SpiffeId, services: BackendServiceConfig[] }>()
  for (const svc of config.backendServices) {
    const id = svc.tlsSettings.identity
    if (id === undefined) continue
    const key = id.spiffeId.toString()
    const entry = byIdentity.get(key) ?? { identity: id.spiffeId, services: [] }
    entry.services.push(svc)
    byIdentity.set(key, entry)
  }
  // The inbound listener's own SVID (frontend.serverTlsPolicy.serverCertificate.identity).
  const inbound = config.frontend.serverTlsPolicy?.serverCertificate
  if (inbound !== undefined && 'identity' in inbound && !byIdentity.has(inbound.identity.toString())) {
    byIdentity.set(inbound.identity.toString(), { identity: inbound.identity, services: [] })
  }
  return [...byIdentity.values()]
}

/**
 * Returns the configured source of `identity`'s credentials, not started. Exported for
 * `serve --check`, which reads a delivering source once the way `serve` does.
 */
export { createSource as createCredentialSource }

// Each source is imported only when the config selects it: the Workload API source brings gRPC
// and protobuf, the issuer the control plane's CA store and @peculiar/x509. A serving process
// loads the one it uses (test/serve-static-graph.test.ts).
async function createSource (config: SpiffeLbConfig, identity: SpiffeId, services: BackendServiceConfig[], clock: Clock,
  poolCrl: DomainCrlInput[]): Promise<CredentialSource> {
  const creds = config.credentials
  switch (creds.source) {
    case 'directory': {
      const { createDirectorySource } = await import('../credentials/directory-source.ts')
      return createDirectorySource({ dir: creds.directory, clock })
    }
    case 'metadata': {
      const { createMetadataSource } = await import('../credentials/metadata-source.ts')
      return createMetadataSource({ url: creds.metadataUrl, pollIntervalMs: creds.pollIntervalMs, clock })
    }
    case 'workload-api': {
      const { createWorkloadApiSource } = await import('../credentials/workload-api-source.ts')
      return createWorkloadApiSource({ ...(creds.endpoint === undefined ? {} : { endpoint: creds.endpoint }), clock })
    }
    case 'issuer': {
      const [{ openPoolIssuance }, { createIssuerSource }, { CA_FILES }] = await Promise.all([
        import('../control/pool-issuance.ts'), import('../credentials/issuer-source.ts'), import('../control/ca-layout.ts')])
      const issuance = await openPoolIssuance(config, identity, { stateDir: creds.stateDir, clock })
      const own = BundleSet.of([X509Bundle.fromPem(issuance.pool.trustDomain, issuance.ca.rootPem, 'ca pool root')])
      // The local CA pool's CRL applies to its trust domain without configuration (signed by the
      // pool's issuing CA, which may be a subordinate outside the bundle).
      poolCrl.push({
        trustDomain: issuance.pool.trustDomain.name,
        files: [join(issuance.caDir, CA_FILES.crl)],
        urls: [],
        staleCrl: 'fail-closed',
        issuers: issuance.ca.chain,
        optional: true
      })
      return createIssuerSource({
        ca: issuance.ca,
        // The cloud attests the backend service resource before it issues; so do we, per service.
        attest: () => {
          for (const svc of services) checkAttestation(config, identity, backendServiceResource(config.project?.number ?? '', svc.name))
        },
        lifetimeMs: issuance.cic.lifetimeMs,
        rotationWindowPercentage: issuance.cic.rotationWindowPercentage,
        keyAlgorithm: issuance.cic.keyAlgorithm,
        trustBundles: () => own,
        clock
      })
    }
  }
}

/**
 * Returns a warning for each private key file `config` names (the credential directory's
 * `private_key.pem`, the frontend's `keyFile`) that other users can read. A key others can
 * write is refused where it is read (`ERR_SPIFFE_CREDENTIALS_KEY_FILE_WRITABLE`).
 */
export async function keyFileWarnings (config: SpiffeLbConfig): Promise<string[]> {
  const files = [
    ...(config.credentials.source === 'directory' ? [join(config.credentials.directory, GCE_FILES.privateKey)] : []),
    ...(config.frontend.tls === undefined ? [] : [config.frontend.tls.keyFile])
  ]
  const out: string[] = []
  for (const file of files) {
    const read = await readCredentialFile(file).catch(() => undefined) // read errors are reported where the key is used
    const warning = read === undefined ? undefined : keyFileWarning(file, read.mode)
    if (warning !== undefined) out.push(warning)
  }
  return out
}
