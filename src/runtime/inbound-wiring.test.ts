import { once } from 'node:events'
import { writeFile } from 'node:fs/promises'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import tls from 'node:tls'
import { pino } from 'pino'
import t from 'tap'
import { createMetrics } from '../admin/metrics.ts'
import { parseConfig } from '../config/load.ts'
import { systemClock } from '../internal/clock.ts'
import { TestSnapshots, makeDomain, makeSvid, tempDir } from '../../test/tls-fixtures.ts'
import type { IdentityCredentials } from './credentials-wiring.ts'
import { inboundFromConfig } from './inbound-wiring.ts'
import { PeerLog } from './peer-log.ts'

t.test('serverCertificate files are watched: a new pair is presented, a broken one keeps the last good', async (t) => {
  const a = await makeDomain('a.test')
  const dir = await tempDir(t)
  const cert = join(dir, 'server.pem')
  const key = join(dir, 'server.key')
  const write = async (path: string): Promise<void> => {
    const svid = await makeSvid(a, path)
    await writeFile(cert, svid.chainPem())
    await writeFile(key, svid.privateKeyPem(), { mode: 0o600 })
  }
  await write('/files/one')
  const loaded = parseConfig(`project: { id: demo-project, number: "1" }
backendServices: [{ name: app, protocol: HTTP, backends: [{ endpoints: ["127.0.0.1:3000"] }] }]
frontend: { serverTlsPolicy: { serverCertificate: { certFile: server.pem, keyFile: server.key } } }
`, { source: 'test.yaml', baseDir: dir })
  if (!loaded.ok) throw new Error(JSON.stringify(loaded.errors))
  const identity = await makeSvid(a, '/trust-source')
  const credentials = [{ identity: identity.id, store: new TestSnapshots(identity, [a.bundle]) }] as unknown as IdentityCredentials[]
  const wiring = await inboundFromConfig(loaded.config, credentials, { clock: systemClock, log: pino({ level: 'silent' }), metrics: createMetrics(), peers: new PeerLog() })
  if (wiring === undefined) throw new Error('no inbound wiring')
  t.teardown(wiring.stop)
  const { verifier } = wiring.options
  const server = tls.createServer(verifier.serverOptions(), (s) => { s.end() })
  const detach = verifier.attach(server)
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.teardown(() => { detach(); server.close() })
  const presented = async (): Promise<string> => {
    const s = tls.connect({ host: '127.0.0.1', port: (server.address() as AddressInfo).port, rejectUnauthorized: false })
    s.on('error', () => {})
    s.resume()
    await once(s, 'secureConnect')
    const san = s.getPeerX509Certificate()?.subjectAltName ?? ''
    s.destroy()
    return san
  }
  t.equal(await presented(), 'URI:spiffe://a.test/files/one')
  await writeFile(key, 'not a key')
  await new Promise((resolve) => setTimeout(resolve, 2500)) // one poll of the watcher sees the broken pair
  t.equal(await presented(), 'URI:spiffe://a.test/files/one', 'a pair that does not load keeps the last good one')
  await write('/files/two')
  while (await presented() !== 'URI:spiffe://a.test/files/two') await new Promise((resolve) => setTimeout(resolve, 200))
  t.pass('the new pair is presented without a restart')
  t.match(wiring.status(0), { clientValidationMode: 'REJECT_INVALID', serverCertificate: cert, allowedPeers: [] })
})
