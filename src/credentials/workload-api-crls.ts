import type { X509Certificate } from 'node:crypto'
import { loadCrl } from '../pki/crl.ts'
import { normalizeSerial, type RevocationList } from '../spiffe/revocation.ts'
import { credentialsError } from './errors.ts'
import type { CredentialCandidate } from './validate-credentials.ts'

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
    let crl
    try {
      // Every domain's CAs at once, own domain first: the one whose key verifies it owns the CRL.
      crl = await loadCrl(der, source, domains.flatMap((d) => d.issuers))
    } catch (err) {
      throw credentialsError('ERR_SPIFFE_CREDENTIALS_CRL_INVALID',
        `${(err as Error).message} (delivered bundles: ${domains.map((d) => d.td).join(', ')}); the crl cannot be matched to a trust domain`, { at: source, cause: err })
    }
    const issuer = crl.issuer.fingerprint256
    const td = domains.find((d) => d.issuers.some((c) => c.fingerprint256 === issuer))?.td ?? own
    out.set(td, [...(out.get(td) ?? []), {
      issuerFingerprint: issuer,
      revokedSerials: new Set(crl.revokedSerials.map(normalizeSerial)),
      thisUpdate: crl.thisUpdate,
      nextUpdate: crl.nextUpdate,
      source
    }])
  }
  return { ...candidate, crls: out }
}
