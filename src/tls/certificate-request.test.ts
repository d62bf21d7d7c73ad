import t, { type Test } from 'tap'
import { once } from 'node:events'
import type { AddressInfo } from 'node:net'
import tls from 'node:tls'
import { makeDomain, makeSvid } from '../../test/tls-fixtures.ts'
import { probeBackend } from './probe.ts'
import { BundleSet } from '../spiffe/bundle-set.ts'

const [a, b] = await Promise.all([makeDomain('a.test'), makeDomain('b.test')])
const server = await makeSvid(a, '/backend')
const client = await makeSvid(a, '/client')

/** Probes a TLS server started with `extra` options; returns the report's clientCertificateRequest. */
async function seen (t: Test, extra: tls.TlsOptions): Promise<unknown> {
  const s = tls.createServer({ cert: server.chainPem(), key: server.privateKeyPem(), ...extra }, (c) => { c.on('error', () => {}); c.end('HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n') })
  s.on('tlsClientError', () => {})
  s.listen(0, '127.0.0.1')
  await once(s, 'listening')
  t.teardown(() => { s.close() })
  const report = await probeBackend({ host: '127.0.0.1', port: (s.address() as AddressInfo).port, svid: client, bundles: BundleSet.of([a.bundle]), now: Date.now(), request: { path: '/', host: 'x' } })
  return report.clientCertificateRequest
}

t.test('the server\'s CertificateRequest is read from its handshake, in TLS 1.3 and 1.2', async (t) => {
  for (const maxVersion of ['TLSv1.3', 'TLSv1.2'] as const) {
    t.same(await seen(t, { maxVersion }), { requested: false, caNames: [] }, `${maxVersion}: no request`)
    t.same(await seen(t, { maxVersion, requestCert: true, rejectUnauthorized: false, ca: [b.bundle.toPem(), a.bundle.toPem()] }),
      { requested: true, caNames: ['CN=b.test root, O=spiffe-lb test', 'CN=a.test root, O=spiffe-lb test'] }, `${maxVersion}: a request naming two CAs`)
  }
})
