import t from 'tap'
import { describeExtension, type OtherExtension } from './extension-names.ts'
import { x509, type X509 } from './x509.ts'

// Each extension as a certificate carries it (DER in, as parsed from a certificate), named and
// decoded by @peculiar/x509's classes where it has one, by the OID map otherwise.
const reparse = (ext: X509.Extension): X509.Extension => {
  const parsed = new x509.Extension(ext.rawData)
  return x509.ExtensionFactory.create(parsed.rawData)
}
const opaque = new Uint8Array([0x05, 0x00]).buffer

const cases: Array<[string, X509.Extension, OtherExtension]> = [
  ['CRL distribution points', new x509.CRLDistributionPointsExtension(['http://crl.example/ca.crl']),
    { oid: '2.5.29.31', critical: false, name: 'CRL Distribution Points', values: ['URI:http://crl.example/ca.crl'] }],
  ['authority info access', new x509.AuthorityInfoAccessExtension({ ocsp: ['http://ocsp.example'], caIssuers: ['http://ca.example/ca.der'] }),
    { oid: '1.3.6.1.5.5.7.1.1', critical: false, name: 'Authority Info Access', values: ['OCSP - URI:http://ocsp.example', 'CA Issuers - URI:http://ca.example/ca.der'] }],
  ['certificate policies', new x509.CertificatePolicyExtension(['2.23.140.1.2.1'], false),
    { oid: '2.5.29.32', critical: false, name: 'Certificate Policies', values: ['Policy: 2.23.140.1.2.1'] }],
  ['issuer alternative name', new x509.IssuerAlternativeNameExtension([{ type: 'dns', value: 'ca.example' }]),
    { oid: '2.5.29.18', critical: false, name: 'Issuer Alternative Name', values: ['DNS:ca.example'] }],
  ['name constraints, named by the OID map', new x509.Extension('2.5.29.30', true, opaque),
    { oid: '2.5.29.30', critical: true, name: 'Name Constraints', values: [] }],
  ['CT SCTs, named by the OID map', new x509.Extension('1.3.6.1.4.1.11129.2.4.2', false, opaque),
    { oid: '1.3.6.1.4.1.11129.2.4.2', critical: false, name: 'CT Precertificate SCTs', values: [] }],
  ['an OID nobody names', new x509.Extension('1.2.3.4.5.6', false, opaque),
    { oid: '1.2.3.4.5.6', critical: false, name: undefined, values: [] }]
]

for (const [name, ext, want] of cases) {
  t.test(name, async (t) => { t.same(describeExtension(reparse(ext)), want) })
}
