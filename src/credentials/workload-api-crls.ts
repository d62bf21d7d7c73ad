import type { X509Certificate } from 'node:crypto'
import { quote } from '../internal/errors.ts'
import { loadCrl } from '../pki/crl.ts'
import { normalizeSerial, type RevocationList } from '../spiffe/revocation.ts'
import { credentialsError } from './errors.ts'
import type { CredentialCandidate } from './validate.ts'

/**
 * Returns `candidate` with the CRLs of a Workload API message kept by trust domain (SPIFFE
 * Workload API §5.2, `crl`: "ASN.1 DER encoded certificate revocation lists", not keyed by
 * domain). Each CRL belongs to the domain whose CA signed it: the SVID's own domain is tried
 * first (its bundle and the intermediates of the SVID's chain, for a CRL of an issuing
 * subordinate), then every federated bundle. A CRL that does not parse or that no delivered
 * bundle verifies is `ERR_SPIFFE_CREDENTIALS_CRL_INVALID`: the whole message is kept out.
 */
export async function withDeliveredCrls (candidate: CredentialCandidate, crls: readonly Buffer[], at: string): Promise<CredentialCandidate> {
  if (crls.length === 0) return candidate
  const own = candidate.svid.id.trustDomain.name
  const domains: Array<{ td: string, issuers: X509Certificate[] }> = [
    { td: own, issuers: [...(candidate.bundles.get(own)?.authorities ?? []), ...candidate.svid.chain.slice(1)] },
    ...[...candidate.bundles].filter((b) => b.trustDomain.name !== own).map((b) => ({ td: b.trustDomain.name, issuers: [...b.authorities] }))
  ]
  const out = new Map<string, RevocationList[]>()
  for (const [i, der] of crls.entries()) {
    const source = `${at} crl[${i}]`
    let found = false
    for (const { td, issuers } of domains) {
      let crl
      try {
        crl = await loadCrl(der, source, issuers)
      } catch (err) {
        if ((err as { code?: string }).code === 'ERR_SPIFFE_PKI_CRL_UNVERIFIED') continue
        throw credentialsError('ERR_SPIFFE_CREDENTIALS_CRL_INVALID', `${quote(source)} is not a der x.509 crl: ${(err as Error).message}`, { at: source, cause: err })
      }
      out.set(td, [...(out.get(td) ?? []), {
        issuerFingerprint: crl.issuer.fingerprint256,
        revokedSerials: new Set(crl.revokedSerials.map(normalizeSerial)),
        thisUpdate: crl.thisUpdate,
        nextUpdate: crl.nextUpdate,
        source
      }])
      found = true
      break
    }
    if (!found) {
      throw credentialsError('ERR_SPIFFE_CREDENTIALS_CRL_INVALID',
        `${quote(source)} is not signed by a ca of any delivered bundle (${domains.map((d) => d.td).join(', ')}), so it cannot be matched to a trust domain`, { at: source })
    }
  }
  return { ...candidate, crls: out }
}
