import t from 'tap'
import { request } from 'node:https'
import { createRootCa, issueCertificate } from '../src/pki/index.ts'
import { startBackend, startTestProxy, testService } from '../src/proxy/test-support.ts'

t.test('a TLS frontend serves HTTPS and tells the backend X-Forwarded-Proto: https', async (t) => {
  const ca = await createRootCa({ subject: 'CN=frontend test root', keyAlgorithm: 'ECDSA_P256' })
  const leaf = await issueCertificate(ca, { subject: 'CN=localhost', dnsNames: ['localhost'], extKeyUsage: ['serverAuth'] })
  const web = await startBackend('web', (req, res) => { res.end(`${req.headers['x-forwarded-proto'] ?? ''} ${req.headers['x-forwarded-host'] ?? ''}`) })
  t.teardown(() => web.close())
  const { port } = await startTestProxy(t, {
    frontend: { host: '127.0.0.1', port: 0, tls: { cert: leaf.chainPem, key: leaf.keyPem } },
    services: [testService('web', [web])],
    urlMap: { defaultService: 'web' }
  })
  const body = await new Promise<string>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/', servername: 'localhost', ca: ca.certPem, agent: false, headers: { host: 'localhost' } }, (res) => {
      let text = ''
      res.on('data', (c: Buffer) => { text += c.toString() })
      res.on('end', () => { resolve(text) })
    })
    req.on('error', reject)
    req.end()
  })
  t.equal(body, 'https localhost')
})
