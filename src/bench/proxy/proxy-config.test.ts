import t from 'tap'
import { BACKEND_MAX_CONCURRENT_STREAMS } from '../../defaults.ts'
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadConfigFile } from '../../config/load.ts'
import { readCredentialDirectory } from '../../credentials/read-directory.ts'
import { createBenchPki } from '../bench-pki.ts'
import { MODE_CONNECTION_POOL, proxyBenchConfig, writeBenchCredentials } from './proxy-config.ts'
import { PROXY_MODES } from './proxy-options.ts'

t.test('the generated config is valid and realises each mode; the credential directory reads back', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'spiffe-lb-proxy-config-'))
  t.teardown(async () => { await rm(dir, { recursive: true, force: true }) })
  const pki = await createBenchPki(join(dir, 'pki'), 'ECDSA_P256', 1)
  const credentialsDir = join(dir, 'credentials')
  await writeBenchCredentials(credentialsDir, pki)

  const read = await readCredentialDirectory(credentialsDir, pki.trustDomain)
  t.equal(read.svid.id.toString(), pki.client.spiffeId, 'certificates.pem holds the client SVID')
  t.same(read.bundles.get(pki.trustDomain)?.fingerprints(), pki.bundles.get(pki.trustDomain)?.fingerprints(), 'the bench root is the trust anchor')
  t.equal((await stat(join(credentialsDir, 'private_key.pem'))).mode & 0o777, 0o600)

  for (const mode of PROXY_MODES) {
    const file = join(dir, `${mode}.yaml`)
    await writeFile(file, proxyBenchConfig({ pki, credentialsDir, backend: '127.0.0.1:9443', mode }))
    const loaded = await loadConfigFile(file)
    if (!loaded.ok) { t.fail(`${mode}: ${JSON.stringify(loaded.errors)}`); continue }
    const services = loaded.config.backendServices
    t.equal(services.length, 1, `${mode}: one backend service`)
    t.same(services[0]?.connectionPool, { ...MODE_CONNECTION_POOL[mode], maxConcurrentStreams: BACKEND_MAX_CONCURRENT_STREAMS }, `${mode}: connectionPool`)
    t.equal(services[0]?.healthCheck, undefined, `${mode}: no health check probes the backend`)
    t.equal(services[0]?.tlsSettings.identity?.spiffeId.toString(), pki.client.spiffeId, `${mode}: presents the client SVID's identity`)
    t.same(services[0]?.backends.flatMap((b) => b.endpoints.map((e) => `${e.host}:${e.port}`)), ['127.0.0.1:9443'])
    t.match(loaded.config.credentials, { source: 'directory', directory: credentialsDir })
  }
  const h2 = join(dir, 'pooled-h2.yaml')
  await writeFile(h2, proxyBenchConfig({ pki, credentialsDir, backend: '127.0.0.1:9443', mode: 'pooled', protocol: 'h2' }))
  const loadedH2 = await loadConfigFile(h2)
  t.equal(loadedH2.ok ? loadedH2.config.backendServices[0]?.protocol : JSON.stringify(loadedH2.errors), 'HTTP2', 'h2: the service speaks HTTP/2')
  const h1 = await loadConfigFile(join(dir, 'pooled.yaml'))
  t.equal(h1.ok ? h1.config.backendServices[0]?.protocol : 'invalid', 'HTTPS', 'h1: the service speaks HTTP/1.1 over TLS')
  t.same(MODE_CONNECTION_POOL, {
    fresh: { maxRequestsPerConnection: 1, tlsSessionResumption: false },
    resumed: { maxRequestsPerConnection: 1, tlsSessionResumption: true },
    pooled: { maxRequestsPerConnection: 0, tlsSessionResumption: true }
  })
})
