// Over 250 lines: the whole config file format is one zod schema, so one reading shows every
// field with its type and its cloud-documented default.
import { z } from 'zod'
import type { ConfigErrorCode } from './errors.ts'
import { BACKEND_MAX_CONCURRENT_STREAMS } from '../defaults.ts'
import { BACKEND_PROTOCOLS, BUNDLE_ENDPOINT_PROFILES, CLIENT_VALIDATION_MODES, CREDENTIAL_SOURCES, LB_POLICIES, STALE_CRL_POLICIES } from '../enums.ts'

/**
 * The shape of a spiffe-lb config file (config/schema.ts), in the cloud's own keys and value
 * forms so `gcloud … describe` output can be pasted in. This schema checks structure only:
 * types, required keys, unknown keys, enumerations and defaults. The rules of the seeds (ID
 * alphabets, ranges, references between resources, attestation) live in `validate*.ts`, so they
 * are all reported together even when several are broken at once.
 */

/** A trust anchor: an inline PEM (as gcloud prints it) or a PEM file relative to the config. */
const trustAnchor = z.strictObject({
  pemCertificate: z.string().optional(),
  pemFile: z.string().optional()
})

/**
 * Extension: where a federated domain's bundle is fetched instead of inline anchors (SPIFFE
 * Federation §5). `caFile` (https_web) and `bootstrapBundle` (https_spiffe) are PEM files
 * relative to the config; `bootstrapBundle` may also be an inline PEM.
 */
const bundleEndpoint = z.strictObject({
  url: z.string(),
  profile: z.enum(BUNDLE_ENDPOINT_PROFILES),
  caFile: z.string().optional(),
  endpointSpiffeId: z.string().optional(),
  bootstrapBundle: z.string().optional(),
  /** How long the last fetched bundle is trusted without a successful fetch; then withdrawn. */
  maxBundleAge: z.string().optional()
})

/**
 * trust domain → `{ trustAnchors }` (or, an extension, `{ bundleEndpoint }`):
 * `additionalTrustBundles` and `spiffeTrustStores`.
 */
const trustStoreMap = z.record(z.string(), z.strictObject({
  trustAnchors: z.array(trustAnchor).optional(),
  bundleEndpoint: bundleEndpoint.optional()
}))

/** Fields gcloud prints on read but that nobody sets; tolerated so describe output can be pasted. */
const outputOnly = {
  name: z.string().optional(),
  createTime: z.string().optional(),
  updateTime: z.string().optional(),
  etag: z.string().optional(),
  description: z.string().optional()
}

const inlineTrustConfig = z.strictObject({
  additionalTrustBundles: trustStoreMap.optional(),
  // A pasted `gcloud certificate-manager trust-configs describe` output: same map, other name.
  spiffeTrustStores: trustStoreMap.optional(),
  ...outputOnly
})

const inlineCertificateIssuanceConfig = z.strictObject({
  /** region → `projects/N/locations/REGION/caPools/POOL` */
  caPools: z.record(z.string(), z.string()),
  lifetime: z.string().default('86400s'),
  rotationWindowPercentage: z.int().default(50),
  keyAlgorithm: z.string().default('ECDSA_P256')
})

const managedIdentity = z.strictObject({
  id: z.string(),
  attestationRules: z.array(z.strictObject({ googleCloudResource: z.string() })).default([]),
  description: z.string().optional()
})

const workloadIdentityPool = z.strictObject({
  /** The pool ID; may be left out when `name` (pasted from describe) carries it. */
  id: z.string().optional(),
  name: z.string().optional(),
  mode: z.enum(['TRUST_DOMAIN']).default('TRUST_DOMAIN'),
  state: z.enum(['ACTIVE']).optional(),
  displayName: z.string().optional(),
  description: z.string().optional(),
  inlineCertificateIssuanceConfig: inlineCertificateIssuanceConfig.optional(),
  inlineTrustConfig: inlineTrustConfig.optional(),
  namespaces: z.array(z.strictObject({
    id: z.string(),
    managedIdentities: z.array(managedIdentity).default([]),
    description: z.string().optional()
  })).default([])
})

const caPool = z.strictObject({
  /** `projects/N/locations/REGION/caPools/POOL` */
  name: z.string(),
  certificateAuthorities: z.array(z.strictObject({
    id: z.string(),
    subject: z.string(),
    // gcloud privateca roots create defaults to rsa-pkcs1-4096-sha256 (seeds); the embedded demo
    // config (`spiffe-lb up`) asks for ec-p256-sha256 because RSA 4096 keys take ~1 s to make.
    keyAlgorithm: z.string().default('rsa-pkcs1-4096-sha256'),
    maxChainLength: z.int().min(0).optional(),
    // gcloud's default CA lifetime: 10 years.
    lifetime: z.string().default('315360000s')
  })).min(1)
})

/** A google.protobuf.Duration as gcloud prints it: `{ seconds, nanos }`. */
const duration = z.strictObject({ seconds: z.int().min(0), nanos: z.int().min(0).max(999_999_999).optional() })

const backendService = z.strictObject({
  name: z.string(),
  description: z.string().optional(),
  // HTTP is allowed only to a loopback application behind frontend.serverTlsPolicy; elsewhere
  // it is accepted here only so validation can say why it is refused (backend mTLS needs TLS).
  protocol: z.enum(BACKEND_PROTOCOLS).default('HTTPS'),
  /** The cloud's `customRequestHeaders`: `"Name:value"`, the value may hold `{client_cert_…}` variables. */
  customRequestHeaders: z.array(z.string()).optional(),
  localityLbPolicy: z.enum(LB_POLICIES).default('ROUND_ROBIN'),
  timeoutSec: z.int().min(1).default(30),
  tlsSettings: z.strictObject({
    identity: z.string().optional(),
    sni: z.string().optional(),
    subjectAltNames: z.array(z.strictObject({
      dnsName: z.string().optional(),
      uniformResourceIdentifier: z.string().optional()
    })).optional(),
    authenticationConfig: z.string().optional()
  }).optional(),
  backends: z.array(z.strictObject({ endpoints: z.array(z.string()).min(1) })).min(1),
  healthCheck: z.strictObject({
    requestPath: z.string().default('/'),
    checkIntervalSec: z.int().min(1).default(5),
    timeoutSec: z.int().min(1).default(5),
    healthyThreshold: z.int().min(1).default(2),
    unhealthyThreshold: z.int().min(1).default(2)
  }).optional(),
  connectionPool: z.strictObject({
    /** 0 = unlimited */
    maxRequestsPerConnection: z.int().min(0).default(0),
    /** Concurrent streams on one HTTP/2 backend connection (protocol HTTP2). */
    maxConcurrentStreams: z.int().min(1).default(BACKEND_MAX_CONCURRENT_STREAMS),
    tlsSessionResumption: z.boolean().default(true),
    /** Key-exchange groups offered to the backends (OpenSSL names, preference order); absent = the connector's default. */
    keyExchangeGroups: z.array(z.string().min(1)).min(1).optional()
  }).prefault({}),
  /** The cloud's `circuitBreakers`; an absent field is no limit. */
  circuitBreakers: z.strictObject({
    maxConnections: z.int().min(1).optional(),
    maxPendingRequests: z.int().min(1).optional(),
    maxRequests: z.int().min(1).optional(),
    maxRetries: z.int().min(0).optional(),
    maxRequestsPerConnection: z.int().min(0).optional()
  }).optional(),
  /**
   * The cloud's `outlierDetection`. The success-rate fields and `interval` are accepted so a
   * pasted describe output loads, and not used: ejection is by consecutive failures.
   */
  outlierDetection: z.strictObject({
    consecutiveErrors: z.int().min(1).optional(),
    consecutiveGatewayFailure: z.int().min(1).optional(),
    enforcingConsecutiveErrors: z.int().min(0).max(100).optional(),
    enforcingConsecutiveGatewayFailure: z.int().min(0).max(100).optional(),
    baseEjectionTime: duration.optional(),
    maxEjectionPercent: z.int().min(0).max(100).optional(),
    interval: duration.optional(),
    enforcingSuccessRate: z.int().min(0).max(100).optional(),
    successRateMinimumHosts: z.int().min(0).optional(),
    successRateRequestVolume: z.int().min(0).optional(),
    successRateStdevFactor: z.int().min(0).optional()
  }).optional(),
  /** Extension: which backend SPIFFE IDs are accepted (patterns, `*` one segment, `**` the rest). */
  authorization: z.strictObject({ allowedPeers: z.array(z.string()).min(1) }).optional()
})

const urlMap = z.strictObject({
  defaultService: z.string(),
  hostRules: z.array(z.strictObject({
    hosts: z.array(z.string()).min(1),
    pathMatcher: z.string()
  })).default([]),
  pathMatchers: z.array(z.strictObject({
    name: z.string(),
    defaultService: z.string(),
    pathRules: z.array(z.strictObject({
      paths: z.array(z.string()).min(1),
      service: z.string()
    })).default([])
  })).default([])
})

/** Where the proxy's own SVID and bundles come from (docs/architecture.md, credential delivery). */
const credentials = z.strictObject({
  source: z.enum(CREDENTIAL_SOURCES).default('issuer'),
  /** SPIFFE Workload API address for `workload-api` (extension); default `$SPIFFE_ENDPOINT_SOCKET`. */
  endpoint: z.string().optional(),
  directory: z.string().default('/var/run/secrets/workload-spiffe-credentials'),
  metadataUrl: z.string().default('http://metadata.google.internal/computeMetadata/v1/instance/gce-workload-certificates'),
  pollInterval: z.string().default('300s'),
  stateDir: z.string().default('.spiffe-lb')
})

/**
 * Extension: CRLs per trust domain, whatever delivers that domain's bundle (the pool's own
 * domain, additionalTrustBundles, a Workload API's federated bundles); see the README's
 * revocation section for why it is keyed by trust domain rather than by trust store.
 */
const revocation = z.strictObject({
  trustDomains: z.record(z.string(), z.strictObject({
    crlFiles: z.array(z.string().min(1)).default([]),
    crlUrls: z.array(z.string().min(1)).default([]),
    staleCrl: z.enum(STALE_CRL_POLICIES).default('fail-closed')
  }))
})

/** The whole config file. */
export const configSchema = z.strictObject({
  /** Required by the cloud's form (pools, CA pools, `//…` identities, the local issuer); validate.ts says when. */
  project: z.strictObject({
    id: z.string(),
    number: z.union([z.string(), z.int().min(0)])
  }).optional(),
  caPools: z.array(caPool).default([]),
  workloadIdentityPools: z.array(workloadIdentityPool).default([]),
  backendServices: z.array(backendService).min(1),
  urlMap: urlMap.optional(),
  frontend: z.strictObject({
    listen: z.string().default('127.0.0.1:8080'),
    tls: z.strictObject({ certFile: z.string(), keyFile: z.string() }).optional(),
    /**
     * The cloud's ServerTlsPolicy: the frontend terminates mTLS in front of an application
     * (inbound mode). `serverCertificate` is an identity from the credential source or files.
     */
    serverTlsPolicy: z.strictObject({
      serverCertificate: z.strictObject({
        identity: z.string().optional(),
        certFile: z.string().optional(),
        keyFile: z.string().optional()
      }),
      mtlsPolicy: z.strictObject({
        clientValidationMode: z.enum(CLIENT_VALIDATION_MODES).default('REJECT_INVALID'),
        /** Extension: trust domains or SPIFFE IDs (patterns) let in; absent = any verified client. */
        allowedPeers: z.array(z.string()).min(1).optional()
      }).prefault({}),
      ...outputOnly
    }).optional(),
    /** Extension: forward TRACE requests (default: refused with 405). */
    allowTrace: z.boolean().default(false),
    /** Extension: client connection limits; absent fields take the proxy's defaults. */
    limits: z.strictObject({
      maxConnections: z.int().min(1).optional(),
      headersTimeout: z.string().optional(),
      requestTimeout: z.string().optional(),
      keepAliveTimeout: z.string().optional(),
      maxHeaderSize: z.int().min(1024).optional(),
      http2MaxConcurrentStreams: z.int().min(1).optional(),
      http2MaxResetStreams: z.int().min(1).optional(),
      http2ResetStreamsWindow: z.string().optional()
    }).optional()
  }).prefault({}),
  admin: z.strictObject({
    listen: z.string().default('127.0.0.1:9901'),
    /** Extension: dns names answered as `Host` besides ip literals and localhost (421 otherwise). */
    allowedHosts: z.array(z.string()).default([])
  }).prefault({}),
  credentials: credentials.prefault({}),
  /**
   * Extension: trust bundles (anchors or bundle endpoints) for a SPIFFE-ID identity outside every
   * workload identity pool, merged with the bundles its credential source delivers.
   */
  trustBundles: trustStoreMap.optional(),
  revocation: revocation.optional()
})

/** The config as written, after structural checks and defaults. */
export type RawConfig = z.output<typeof configSchema>
export type RawPool = RawConfig['workloadIdentityPools'][number]
export type RawBackendService = RawConfig['backendServices'][number]
export type RawTrustStoreMap = z.output<typeof trustStoreMap>
export type RawBundleEndpoint = z.output<typeof bundleEndpoint>

/** Codes of the enumerations the seeds define, by the key that holds them. */
export const ENUM_CODES: Readonly<Record<string, ConfigErrorCode>> = {
  mode: 'ERR_SPIFFE_CONFIG_POOL_MODE',
  state: 'ERR_SPIFFE_CONFIG_POOL_STATE',
  protocol: 'ERR_SPIFFE_CONFIG_PROTOCOL',
  localityLbPolicy: 'ERR_SPIFFE_CONFIG_LB_POLICY',
  source: 'ERR_SPIFFE_CONFIG_CREDENTIALS_SOURCE',
  staleCrl: 'ERR_SPIFFE_CONFIG_REVOCATION_STALE_CRL',
  profile: 'ERR_SPIFFE_CONFIG_BUNDLE_ENDPOINT_PROFILE',
  clientValidationMode: 'ERR_SPIFFE_CONFIG_CLIENT_VALIDATION_MODE'
}
