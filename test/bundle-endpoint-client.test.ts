import t from 'tap'
import { createServer } from 'node:https'
import type { AddressInfo } from 'node:net'
import { createBundleEndpointServer } from '../src/control/bundle-endpoint-server.ts'
import { bundleEndpointFetcher, type BundleEndpointTarget } from '../src/credentials/bundle-endpoint-client.ts'
import { createRootCa, issueCertificate } from '../src/pki/index.ts'
import { issueSvidCertificate } from '../src/pki/svid-certificate.ts'
import { SpiffeId } from '../src/spiffe/spiffe-id.ts'
import { TrustDomain } from '../src/spiffe/trust-domain.ts'
import { X509Bundle } from '../src/spiffe/x509-bundle.ts'

// The bundle endpoint client against real TLS servers on loopback: each way an endpoint can fail
// authentication or delivery gets its own code, and the good cases return the served document.
const TD = TrustDomain.fromString('partner.example')
const ENDPOINT_ID = SpiffeId.fromString('spiffe://partner.example/bundle-endpoint')

const partnerCa = await createRootCa({ subject: 'CN=Partner Root', keyAlgorithm: 'ECDSA_P256' })
const otherCa = await createRootCa({ subject: 'CN=Other Root', keyAlgorithm: 'ECDSA_P256' })
const webCa = await createRootCa({ subject: 'CN=Web CA', keyAlgorithm: 'ECDSA_P256' })
const partnerBundle = X509Bundle.fromPem(TD, partnerCa.certPem)
const web = await issueCertificate(webCa, { subject: 'CN=localhost', dnsNames: ['localhost'], extKeyUsage: ['serverAuth'], notBefore: Date.now() - 60_000 })
const svid = await issueSvidCertificate(partnerCa, { uri: ENDPOINT_ID.toString(), notBefore: Date.now() - 60_000, lifetimeMs: 3_600_000 })
const otherSvid = await issueSvidCertificate(partnerCa, { uri: 'spiffe://partner.example/someone-else', notBefore: Date.now() - 60_000, lifetimeMs: 3_600_000 })

async function endpoint (certPem: string, keyPem: string): Promise<{ port: number, close: () => Promise<void> }> {
  const server = await createBundleEndpointServer({
    listen: { host: '127.0.0.1', port: 0, address: '127.0.0.1:0' }, certPem, keyPem, refreshHintMs: 60_000,
    bundle: async () => ({ bundle: partnerBundle, sequence: 7 })
  })
  t.teardown(server.close)
  return { port: server.address.port, close: server.close }
}

const webServer = await endpoint(web.certPem, web.keyPem)
const spiffeServer = await endpoint(svid.chainPem, svid.keyPem)
const otherServer = await endpoint(otherSvid.chainPem, otherSvid.keyPem)
const notFound = createServer({ cert: web.certPem, key: web.keyPem }, (_req, res) => { res.writeHead(404).end() })
await new Promise<void>((resolve) => notFound.listen(0, '127.0.0.1', resolve))
t.teardown(() => { notFound.close() })
const closed = await endpoint(web.certPem, web.keyPem)
await closed.close()

const webAt = (port: number, caPem = webCa.certPem, host = 'localhost'): BundleEndpointTarget => ({ trustDomain: TD, url: `https://${host}:${port}/bundle`, profile: 'https_web', caPem })
const spiffeAt = (port: number, id = ENDPOINT_ID): BundleEndpointTarget => ({ trustDomain: TD, url: `https://127.0.0.1:${port}/`, profile: 'https_spiffe', endpointSpiffeId: id })

t.test('good endpoints answer the served JWK Set', async (t) => {
  for (const [what, target, bundle] of [
    ['https_web', webAt(webServer.port), undefined],
    ['https_spiffe', spiffeAt(spiffeServer.port), partnerBundle]
  ] as const) {
    const doc = await bundleEndpointFetcher(target)(bundle)
    t.match(doc, { spiffe_sequence: 7, spiffe_refresh_hint: 60 }, what)
    t.ok(X509Bundle.fromJwks(TD, doc).equals(partnerBundle), `${what}: the bundle parses back`)
  }
})

t.test('each failure has its code', async (t) => {
  const otherBundle = X509Bundle.fromPem(TD, otherCa.certPem)
  const cases: Array<[string, BundleEndpointTarget, X509Bundle | undefined, string, RegExp]> = [
    ['https_web with another ca', webAt(webServer.port, otherCa.certPem), undefined, 'ERR_SPIFFE_CREDENTIALS_BUNDLE_ENDPOINT_UNTRUSTED', /not trusted \(web pki\)/],
    ['https_web with a name the certificate lacks', webAt(webServer.port, webCa.certPem, '127.0.0.1'), undefined, 'ERR_SPIFFE_CREDENTIALS_BUNDLE_ENDPOINT_UNTRUSTED', /ERR_TLS_CERT_ALTNAME_INVALID/],
    ['https_spiffe against another bundle', spiffeAt(spiffeServer.port), otherBundle, 'ERR_SPIFFE_CREDENTIALS_BUNDLE_ENDPOINT_UNTRUSTED', /not authenticated by the bundle of "partner.example": .*ERR_SPIFFE_VERIFY_/],
    ['https_spiffe with another id', spiffeAt(otherServer.port), partnerBundle, 'ERR_SPIFFE_CREDENTIALS_BUNDLE_ENDPOINT_ID_MISMATCH', /presented "spiffe:\/\/partner.example\/someone-else", expected endpointSpiffeId "spiffe:\/\/partner.example\/bundle-endpoint"/],
    ['https_spiffe against a web certificate', spiffeAt(webServer.port), partnerBundle, 'ERR_SPIFFE_CREDENTIALS_BUNDLE_ENDPOINT_UNTRUSTED', /ERR_SPIFFE_SVID_/],
    ['http 404', webAt((notFound.address() as AddressInfo).port), undefined, 'ERR_SPIFFE_CREDENTIALS_BUNDLE_ENDPOINT_HTTP', /answered http 404/],
    ['nothing listening', webAt(closed.port), undefined, 'ERR_SPIFFE_CREDENTIALS_BUNDLE_ENDPOINT_UNREACHABLE', /could not be fetched: ECONNREFUSED/]
  ]
  for (const [what, target, bundle, code, message] of cases) {
    const err = await bundleEndpointFetcher(target, 5000)(bundle).then(() => undefined, (e: unknown) => e as { code: string, message: string })
    t.equal(err?.code, code, `${what}: ${err?.message ?? 'fetched'}`)
    t.match(err?.message, message, what)
  }
})
