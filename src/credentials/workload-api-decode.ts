import { X509Certificate, createPrivateKey, type KeyObject } from 'node:crypto'
import { quote } from '../internal/errors.ts'
import { BundleSet } from '../spiffe/bundle-set.ts'
import { readElement } from '../spiffe/der.ts'
import { SpiffeId } from '../spiffe/spiffe-id.ts'
import { TrustDomain } from '../spiffe/trust-domain.ts'
import { X509Bundle } from '../spiffe/x509-bundle.ts'
import { X509Svid } from '../spiffe/x509-svid.ts'
import { credentialsError } from './errors.ts'
import type { CredentialCandidate } from './validate-credentials.ts'
import type { X509SvidResponse } from './workload-api-wire.ts'

const SEQUENCE_TAG = 0x30

/**
 * Returns the DER elements concatenated in `field` (SPIFFE Workload API §5.2: certificate
 * fields are "ASN.1 DER encoded certificates, concatenated with no intermediate padding").
 * Each must be a SEQUENCE that ends inside the field. Throws
 * `ERR_SPIFFE_CREDENTIALS_DER_NOT_CERTIFICATE`, `…_DER_TRUNCATED` or `…_DER_MALFORMED` naming `at`.
 */
export function splitDer (field: Buffer, at: string): Buffer[] {
  const out: Buffer[] = []
  let offset = 0
  while (offset < field.length) {
    const tag = field[offset] as number
    if (tag !== SEQUENCE_TAG) {
      throw credentialsError('ERR_SPIFFE_CREDENTIALS_DER_NOT_CERTIFICATE',
        `der element ${out.length + 1} at byte ${offset} has tag 0x${tag.toString(16).padStart(2, '0')}, not a certificate sequence (0x30)`, { at })
    }
    try {
      const { element, next } = readElement(field, offset)
      out.push(element.raw)
      offset = next
    } catch (err) {
      const truncated = err instanceof Error && /past the end|truncated/.test(err.message)
      throw credentialsError(truncated ? 'ERR_SPIFFE_CREDENTIALS_DER_TRUNCATED' : 'ERR_SPIFFE_CREDENTIALS_DER_MALFORMED',
        `der element ${out.length + 1} at byte ${offset} is ${truncated ? 'truncated' : 'malformed'}: ${(err as Error).message}`, { at, cause: err })
    }
  }
  return out
}

/** Returns the certificates of a concatenated-DER field; see {@link splitDer}. */
export function certificatesOf (field: Buffer, at: string): X509Certificate[] {
  return splitDer(field, at).map((der, i) => {
    try {
      return new X509Certificate(der)
    } catch (err) {
      throw credentialsError('ERR_SPIFFE_CREDENTIALS_DER_NOT_CERTIFICATE',
        `der element ${i + 1} is not a valid x.509 certificate: ${(err as Error).message}`, { at, cause: err })
    }
  })
}

/** Returns the trust domain of a bundle map key, written `spiffe://td` (as SPIRE does) or bare. */
export function bundleKeyDomain (key: string, at: string): TrustDomain {
  try {
    return TrustDomain.fromString(key)
  } catch (err) {
    throw credentialsError('ERR_SPIFFE_CREDENTIALS_BUNDLE_KEY',
      `bundle key ${quote(key)} is not a trust domain: ${(err as Error).message}`, { at, cause: err })
  }
}

/**
 * Returns the bundles of a Workload API bundle map, one per trust domain. A domain named twice
 * (`spiffe://td` and `td`) is `ERR_SPIFFE_CREDENTIALS_BUNDLE_KEY`; a domain already in `taken`
 * (the SVID's own bundle) is left out when its anchors are the same, else it is
 * `ERR_SPIFFE_CREDENTIALS_DUPLICATE_TRUST_DOMAIN`.
 */
export function bundlesOfMap (map: Readonly<Record<string, Buffer>>, at: string, taken: readonly X509Bundle[] = []): X509Bundle[] {
  const out = [...taken]
  for (const [key, der] of Object.entries(map)) {
    const where = `${at}[${JSON.stringify(key)}]`
    const td = bundleKeyDomain(key, where)
    const own = taken.find((b) => b.trustDomain.equals(td))
    if (own !== undefined) {
      // The same anchors twice is one bundle; two anchor lists from one server cannot be ranked.
      if (own.equals(new X509Bundle(td, certificatesOf(der, where), where))) continue
      throw credentialsError('ERR_SPIFFE_CREDENTIALS_DUPLICATE_TRUST_DOMAIN',
        `trust domain ${quote(td.name)} arrives both as the svid's own bundle and as a federated bundle, with other anchors`, { at: where })
    }
    if (out.some((b) => b.trustDomain.equals(td))) {
      throw credentialsError('ERR_SPIFFE_CREDENTIALS_BUNDLE_KEY', `trust domain ${quote(td.name)} has more than one bundle key`, { at: where })
    }
    out.push(new X509Bundle(td, certificatesOf(der, where), where))
  }
  return out.slice(taken.length)
}

/**
 * Returns the credential candidate an `X509SVIDResponse` holds for `identity` (SPIFFE Workload
 * API §5.2): the SVID whose `spiffe_id` equals it (else `…_IDENTITY_NOT_DELIVERED` listing the
 * IDs offered), its own `bundle` as its trust domain's bundle, and each `federated_bundles`
 * entry as the bundle of its own domain, never pooled. `at` names the endpoint in errors.
 */
export function candidateFromResponse (msg: X509SvidResponse, identity: SpiffeId, at: string): CredentialCandidate {
  const mine = msg.svids.find((s) => sameId(s.spiffe_id, identity))
  if (mine === undefined) {
    const offered = msg.svids.map((s) => quote(s.spiffe_id)).join(', ')
    throw credentialsError('ERR_SPIFFE_CREDENTIALS_IDENTITY_NOT_DELIVERED',
      `the workload api offers no svid for ${quote(identity.toString())} (offered: ${offered === '' ? 'none' : offered})`, { at })
  }
  const where = `${at} svid ${quote(mine.spiffe_id)}`
  const chain = certificatesOf(mine.x509_svid, `${where} x509_svid`)
  const svid = new X509Svid(chain, privateKeyOf(mine.x509_svid_key, `${where} x509_svid_key`), where)
  const own = new X509Bundle(identity.trustDomain, certificatesOf(mine.bundle, `${where} bundle`), `${where} bundle`)
  const federated = bundlesOfMap(msg.federated_bundles, `${at} federated_bundles`, [own])
  return { svid, bundles: BundleSet.of([own, ...federated]) }
}

function privateKeyOf (der: Buffer, at: string): KeyObject {
  try {
    return createPrivateKey({ key: der, format: 'der', type: 'pkcs8' })
  } catch (err) {
    throw credentialsError('ERR_SPIFFE_CREDENTIALS_BAD_PRIVATE_KEY',
      `x509_svid_key is not a pkcs#8 der private key: ${(err as Error).message}`, { at, cause: err })
  }
}

function sameId (written: string, identity: SpiffeId): boolean {
  try {
    return SpiffeId.fromString(written).equals(identity)
  } catch {
    return false
  }
}
