import t from 'tap'
import { IDENTITY, baseDoc, edit, load, rootPem, type Doc } from './testing/config-fixtures.ts'

const base = baseDoc(await rootPem())
const POLICY = ['frontend', 'serverTlsPolicy'] as const
const APP = { name: 'app', protocol: 'HTTP', backends: [{ endpoints: ['127.0.0.1:3000'] }] }
const inbound = (policy: Doc, app: Doc = APP): Doc => edit(base, [[...POLICY], policy], [['backendServices'], [app]], [['urlMap'], { defaultService: 'app' }])

/** Returns [path, code] of every issue of `doc`, or the loaded config. */
function issues (doc: Doc): Array<[string, string]> {
  const r = load(doc)
  return r.ok ? [] : r.errors.map((e) => [e.path, e.code])
}

t.test('an inbound policy in front of a loopback application loads', async (t) => {
  const r = load(inbound({
    serverCertificate: { identity: IDENTITY },
    mtlsPolicy: { clientValidationMode: 'ALLOW_INVALID_OR_MISSING_CLIENT_CERT', allowedPeers: ['partner.example', 'spiffe://b.example', 'spiffe://c.example/ns/*/sa/web'] }
  }, { ...APP, customRequestHeaders: ['X-Client-Cert-Present:{client_cert_present}', 'X-Note: a {{literal}} {client_cert_spiffe_id}!'] }))
  if (!r.ok) { t.fail(JSON.stringify(r.errors)); return }
  const p = r.config.frontend.serverTlsPolicy
  t.equal(p?.clientValidationMode, 'ALLOW_INVALID_OR_MISSING_CLIENT_CERT')
  t.same(p?.allowedPeers?.map(String), ['spiffe://partner.example/**', 'spiffe://b.example/**', 'spiffe://c.example/ns/*/sa/web'])
  t.equal('identity' in (p?.serverCertificate ?? {}) ? String((p?.serverCertificate as { identity: unknown }).identity) : '', `spiffe:${IDENTITY}`)
  const svc = r.config.backendServices[0]
  t.equal(svc?.protocol, 'HTTP')
  t.same(svc?.customRequestHeaders, [
    { name: 'x-client-cert-present', parts: [{ variable: 'client_cert_present' }] },
    { name: 'x-note', parts: [{ text: 'a {literal} ' }, { variable: 'client_cert_spiffe_id' }, { text: '!' }] }
  ])
  const files = load(inbound({ serverCertificate: { certFile: 'server.pem', keyFile: 'server.key' } }))
  t.same(files.ok && files.config.frontend.serverTlsPolicy?.serverCertificate, { certFile: '/nonexistent/server.pem', keyFile: '/nonexistent/server.key' })
  t.equal(files.ok && files.config.frontend.serverTlsPolicy?.clientValidationMode, 'REJECT_INVALID', 'REJECT_INVALID is the default')
})

t.test('cleartext only to loopback and only behind an inbound policy', async (t) => {
  t.same(issues(inbound({ serverCertificate: { identity: IDENTITY } }, { ...APP, backends: [{ endpoints: ['10.0.0.5:3000', '[::1]:3000', 'localhost:3000'] }] })),
    [['backendServices[0].backends[0].endpoints[0]', 'ERR_SPIFFE_CONFIG_CLEARTEXT_ENDPOINT']])
  t.same(issues(edit(base, [['backendServices', 0, 'protocol'], 'HTTP'])), [['backendServices[0].protocol', 'ERR_SPIFFE_CONFIG_PROTOCOL_CLEARTEXT']])
})

t.test('every broken policy field is reported with its code', async (t) => {
  t.same(issues(inbound({ serverCertificate: {} })), [['frontend.serverTlsPolicy.serverCertificate', 'ERR_SPIFFE_CONFIG_SERVER_CERTIFICATE']])
  t.same(issues(inbound({ serverCertificate: { certFile: 'a.pem' } })), [['frontend.serverTlsPolicy.serverCertificate', 'ERR_SPIFFE_CONFIG_SERVER_CERTIFICATE']])
  t.same(issues(inbound({ serverCertificate: { identity: IDENTITY, certFile: 'a', keyFile: 'b' } })), [['frontend.serverTlsPolicy.serverCertificate', 'ERR_SPIFFE_CONFIG_SERVER_CERTIFICATE']])
  t.same(issues(inbound({ serverCertificate: { identity: 'https://x' } })), [['frontend.serverTlsPolicy.serverCertificate.identity', 'ERR_SPIFFE_CONFIG_SERVER_CERTIFICATE']])
  t.same(issues(inbound({ serverCertificate: { identity: IDENTITY }, mtlsPolicy: { clientValidationMode: 'STRICT' } })),
    [['frontend.serverTlsPolicy.mtlsPolicy.clientValidationMode', 'ERR_SPIFFE_CONFIG_CLIENT_VALIDATION_MODE']])
  t.same(issues(inbound({ serverCertificate: { identity: IDENTITY }, mtlsPolicy: { allowedPeers: ['Bad_Domain', 'spiffe://a.example/**/x'] } })), [
    ['frontend.serverTlsPolicy.mtlsPolicy.allowedPeers[0]', 'ERR_SPIFFE_CONFIG_INBOUND_PEER'],
    ['frontend.serverTlsPolicy.mtlsPolicy.allowedPeers[1]', 'ERR_SPIFFE_CONFIG_INBOUND_PEER']])
  t.same(issues(edit(inbound({ serverCertificate: { identity: IDENTITY } }), [['frontend', 'tls'], { certFile: 'a', keyFile: 'b' }])),
    [['frontend.serverTlsPolicy', 'ERR_SPIFFE_CONFIG_SERVER_TLS_WITH_TLS']])
})

t.test('custom headers: name, reserved names, variables and braces', async (t) => {
  const bad = ['no colon', 'Bad Name:x', 'Host:x', 'Transfer-Encoding:x', 'X-A:{client_cert_nope}', 'X-B:{client_cert_present', 'X-C:}']
  t.same(issues(inbound({ serverCertificate: { identity: IDENTITY } }, { ...APP, customRequestHeaders: bad })),
    bad.map((_, i) => [`backendServices[0].customRequestHeaders[${i}]`, 'ERR_SPIFFE_CONFIG_CUSTOM_HEADER']))
})
