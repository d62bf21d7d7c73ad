import { fileURLToPath } from 'node:url'
import { makeClientConstructor, type ServiceDefinition } from '@grpc/grpc-js'
import { loadSync } from '@grpc/proto-loader'

// The one owner of the SPIFFE Workload API wire format: the shipped `proto/workload.proto`
// (two levels up from both src/credentials/ and dist/credentials/), loaded with the ecosystem's
// loader, and the TypeScript shape of what it decodes to. The client source and the server of
// the local control plane both speak through here.

/** Path of the shipped `workload.proto`. */
export const WORKLOAD_API_PROTO = fileURLToPath(new URL('../../proto/workload.proto', import.meta.url))

/** The metadata every request must carry (SPIFFE Workload API §5.1), and its only value. */
export const WORKLOAD_API_HEADER = 'workload.spiffe.io'
export const WORKLOAD_API_HEADER_VALUE = 'true'

/** One `X509SVID` as decoded: bytes fields are Buffers, absent fields their zero value. */
export interface X509SvidMessage {
  spiffe_id: string
  /** Concatenated DER certificates, leaf first. */
  x509_svid: Buffer
  /** PKCS#8 DER private key. */
  x509_svid_key: Buffer
  /** Concatenated DER CA certificates of the SVID's own trust domain. */
  bundle: Buffer
  hint: string
}

/** `X509SVIDResponse`: the full state of the workload's SVIDs, CRLs and federated bundles. */
export interface X509SvidResponse {
  svids: X509SvidMessage[]
  crl: Buffer[]
  /** Trust domain (`spiffe://td` or `td`) → concatenated DER CA certificates. */
  federated_bundles: Record<string, Buffer>
}

/** `X509BundlesResponse`: every trust domain's bundle, own and federated, and the CRLs. */
export interface X509BundlesResponse {
  crl: Buffer[]
  bundles: Record<string, Buffer>
}

/** What a server may send: fields left out encode as their zero value. */
export type X509SvidResponseInit = { svids?: Array<Partial<X509SvidMessage>>, crl?: Buffer[], federated_bundles?: Record<string, Buffer> }

let service: ServiceDefinition | undefined

/**
 * Returns the `SpiffeWorkloadAPI` service definition (method paths, serializers) loaded from
 * {@link WORKLOAD_API_PROTO}. Field names keep their proto spelling; decoded messages always
 * have every field (zero values filled in), so the shapes above hold.
 */
export function workloadApiService (): ServiceDefinition {
  service ??= loadSync(WORKLOAD_API_PROTO, { keepCase: true, longs: String, defaults: true, arrays: true, objects: true })
    .SpiffeWorkloadAPI as ServiceDefinition
  return service
}

/** Returns the generated client class of the service (`new (target, credentials)`). */
export function workloadApiClientClass (): ReturnType<typeof makeClientConstructor> {
  return makeClientConstructor(workloadApiService(), 'SpiffeWorkloadAPI')
}
