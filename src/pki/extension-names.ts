import { x509, type X509 } from './x509.ts'

/** An extension `describeCertificate` has no field of its own for: its OID, name when known and decoded values. */
export interface OtherExtension {
  oid: string
  critical: boolean
  /** A display name (openssl's wording), or undefined for an OID nobody here knows. */
  name: string | undefined
  /** The decoded content, one entry a line; empty when the extension is only named, not decoded. */
  values: string[]
}

// Names of common extensions that @peculiar/x509 has no class for (its classes carry their own
// NAME and decode the value); wording as `openssl x509 -text` prints it.
const OID_NAMES: Readonly<Record<string, string>> = {
  '2.5.29.9': 'Subject Directory Attributes',
  '2.5.29.30': 'Name Constraints',
  '2.5.29.36': 'Policy Constraints',
  '2.5.29.46': 'Freshest CRL',
  '2.5.29.54': 'Inhibit Any Policy',
  '1.3.6.1.5.5.7.1.11': 'Subject Information Access',
  '1.3.6.1.5.5.7.1.24': 'TLS Feature',
  '1.3.6.1.5.5.7.48.1.5': 'OCSP No Check',
  '1.3.6.1.4.1.11129.2.4.2': 'CT Precertificate SCTs',
  '1.3.6.1.4.1.11129.2.4.3': 'CT Precertificate Poison',
  '2.16.840.1.113730.1.1': 'Netscape Cert Type',
  '2.16.840.1.113730.1.13': 'Netscape Comment',
  '1.3.6.1.4.1.311.20.2': 'Microsoft Certificate Template Name',
  '1.3.6.1.4.1.311.21.7': 'Microsoft Certificate Template',
  '1.3.6.1.4.1.311.21.10': 'Microsoft Application Policies'
}

const generalName = (n: { type: string, value: string }): string => `${n.type === 'url' ? 'URI' : n.type.toUpperCase()}:${n.value}`

/** Returns the name and decoded values of `ext`, using @peculiar/x509's extension class when it has one. */
export function describeExtension (ext: X509.Extension): OtherExtension {
  const base = { oid: ext.type, critical: ext.critical }
  if (ext instanceof x509.CRLDistributionPointsExtension) {
    const uris = ext.distributionPoints.flatMap((p) => p.distributionPoint?.fullName ?? [])
      .flatMap((n) => n.uniformResourceIdentifier === undefined ? [] : [`URI:${n.uniformResourceIdentifier}`])
    return { ...base, name: x509.CRLDistributionPointsExtension.NAME, values: uris }
  }
  if (ext instanceof x509.AuthorityInfoAccessExtension) {
    return {
      ...base,
      name: x509.AuthorityInfoAccessExtension.NAME,
      values: [...ext.ocsp.map((n) => `OCSP - ${generalName(n)}`), ...ext.caIssuers.map((n) => `CA Issuers - ${generalName(n)}`)]
    }
  }
  if (ext instanceof x509.CertificatePolicyExtension) {
    return { ...base, name: x509.CertificatePolicyExtension.NAME, values: ext.policies.map((p) => `Policy: ${p}`) }
  }
  if (ext instanceof x509.IssuerAlternativeNameExtension) {
    return { ...base, name: x509.IssuerAlternativeNameExtension.NAME, values: ext.names.toJSON().map(generalName) }
  }
  return { ...base, name: OID_NAMES[ext.type], values: [] }
}
