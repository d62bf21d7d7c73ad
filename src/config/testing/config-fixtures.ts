// Test support only: a valid config document to break one rule at a time, and CA certificates
// generated at run time (never stored in the repo).
import { stringify } from 'yaml'
import { createRootCa } from '../../pki/index.ts'
import { parseConfig, type ConfigResult } from '../load.ts'

/** A config document as plain data, edited by tests before it is serialised. */
export type Doc = Record<string, unknown>

export const NUMBER = '123456789012'
export const IDENTITY = `//demo-pool.global.${NUMBER}.workload.id.goog/ns/lb/sa/frontend`
export const CA_POOL = `projects/${NUMBER}/locations/us-central1/caPools/root-pool`
export const BACKEND_SERVICE_RULE = `//compute.googleapis.com/projects/${NUMBER}/type/BackendService/*`

/** Returns the PEM of a fresh ECDSA P-256 root CA certificate. */
export async function rootPem (subject = 'CN=Partner Root, O=Partner'): Promise<string> {
  return (await createRootCa({ subject, keyAlgorithm: 'ECDSA_P256', maxChainLength: 1 })).certPem
}

/** Returns a valid config: one pool (own CA pool, `partner.example` trusted), one backend service. */
export function baseDoc (partnerPem: string): Doc {
  return {
    project: { id: 'demo-project', number: NUMBER },
    caPools: [{
      name: CA_POOL,
      certificateAuthorities: [{ id: 'root-ca', subject: 'CN=Demo Root CA, O=Demo', keyAlgorithm: 'ec-p256-sha256', maxChainLength: 1 }]
    }],
    workloadIdentityPools: [{
      id: 'demo-pool',
      mode: 'TRUST_DOMAIN',
      inlineCertificateIssuanceConfig: { caPools: { 'us-central1': CA_POOL }, lifetime: '86400s', rotationWindowPercentage: 50, keyAlgorithm: 'ECDSA_P256' },
      inlineTrustConfig: { additionalTrustBundles: { 'partner.example': { trustAnchors: [{ pemCertificate: partnerPem }] } } },
      namespaces: [
        { id: 'lb', managedIdentities: [{ id: 'frontend', attestationRules: [{ googleCloudResource: BACKEND_SERVICE_RULE }] }] },
        { id: 'apps', managedIdentities: [{ id: 'echo' }] }
      ]
    }],
    backendServices: [{
      name: 'web',
      tlsSettings: { identity: IDENTITY },
      backends: [{ endpoints: ['127.0.0.1:9443'] }]
    }],
    urlMap: { defaultService: 'web' },
    frontend: { listen: '127.0.0.1:8080' },
    admin: { listen: '127.0.0.1:9901' }
  }
}

/**
 * Returns a deep copy of `doc` with the value at `path` replaced (`undefined` deletes it).
 * Missing intermediate objects are created.
 */
export function edit (doc: Doc, ...edits: Array<[ReadonlyArray<string | number>, unknown]>): Doc {
  const copy = structuredClone(doc)
  for (const [path, value] of edits) {
    let node = copy as Record<string | number, unknown>
    for (const key of path.slice(0, -1)) {
      node[key] ??= {}
      node = node[key] as Record<string | number, unknown>
    }
    const last = path[path.length - 1] as string | number
    if (value === undefined) {
      if (Array.isArray(node) && typeof last === 'number') node.splice(last, 1)
      else delete node[last] // eslint-disable-line @typescript-eslint/no-dynamic-delete
    } else {
      node[last] = value
    }
  }
  return copy
}

/** Returns `doc` serialised to YAML and loaded, relative paths against `baseDir`. */
export function load (doc: Doc, baseDir = '/nonexistent'): ConfigResult {
  return parseConfig(stringify(doc), { source: 'test.yaml', baseDir })
}
