/** Object identifiers of the X.509 extensions and key purposes spiffe-lb reads (RFC 5280 §4.2). */
export const OID = {
  subjectAltName: '2.5.29.17',
  basicConstraints: '2.5.29.19',
  keyUsage: '2.5.29.15',
  extKeyUsage: '2.5.29.37',
  nameConstraints: '2.5.29.30',
  subjectKeyIdentifier: '2.5.29.14',
  authorityKeyIdentifier: '2.5.29.35',
  certificatePolicies: '2.5.29.32',
  serverAuth: '1.3.6.1.5.5.7.3.1',
  clientAuth: '1.3.6.1.5.5.7.3.2',
  anyExtendedKeyUsage: '2.5.29.37.0'
} as const

// Extensions whose meaning this module applies (or which carry no constraint at all:
// key identifiers, and certificate policies since we impose no policy requirement).
export const HANDLED: ReadonlySet<string> = new Set<string>([
  OID.subjectAltName, OID.basicConstraints, OID.keyUsage, OID.extKeyUsage, OID.nameConstraints,
  OID.subjectKeyIdentifier, OID.authorityKeyIdentifier, OID.certificatePolicies
])
