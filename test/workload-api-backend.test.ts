import { spawn } from 'node:child_process'
import tls from 'node:tls'
import t from 'tap'
import { DEMO } from '../src/testbed/up-world.ts'
import { startWorkloadApiCommand } from '../src/testbed/workload-api-runner.ts'
import { openCaPool } from '../src/control/ca-pool-store.ts'
import { issueSvidCertificate } from '../src/pki/index.ts'
import { IDENTITY, createWapiWorld, quiet, waitFor } from './workload-api-world.ts'

const main = new URL('../src/cli/main.ts', import.meta.url).pathname

/** One mTLS GET: returns the backend's leaf serial and the echoed JSON body. */
async function get (port: number, client: { chainPem: string, keyPem: string }): Promise<{ serial: string, body: { self: string, peer: string } }> {
  return await new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port, cert: client.chainPem, key: client.keyPem, rejectUnauthorized: false }, () => {
      const serial = socket.getPeerX509Certificate()?.serialNumber ?? ''
      let raw = ''
      socket.on('data', (d: Buffer) => { raw += d.toString() })
      socket.on('end', () => { resolve({ serial, body: JSON.parse(raw.slice(raw.indexOf('\r\n\r\n') + 4)) }) })
      socket.write('GET /who HTTP/1.1\r\nhost: backend\r\nconnection: close\r\n\r\n')
    })
    socket.on('error', reject)
  })
}

t.test('backend --workload-api serves with the SVID of a Workload API and follows its rotation', async (t) => {
  const w = await createWapiWorld()
  t.teardown(w.close)
  const server = await startWorkloadApiCommand({ config: w.issuerConfig, listen: w.socket, identity: IDENTITY }, { stdout: quiet, stderr: quiet })
  if (typeof server === 'number') throw new Error(`workload-api exited ${server}`)
  t.teardown(async () => { await server.close() })
  const child = spawn(process.execPath, [main, 'backend', '--workload-api', w.socket, '--listen', '127.0.0.1:0'], { stdio: ['ignore', 'pipe', 'pipe'] })
  t.teardown(() => { child.kill('SIGKILL') })
  let out = ''
  child.stdout.on('data', (d: Buffer) => { out += d.toString() })
  child.stderr.on('data', (d: Buffer) => { out += d.toString() })
  await waitFor(() => /listening on \S+:(\d+) as/.test(out) || child.exitCode !== null, 'the backend to listen')
  t.match(out, new RegExp(`as ${IDENTITY.replace(/[.]/g, '\\.')}`), 'the identity came from the workload api')
  const port = Number(/listening on \S+:(\d+) as/.exec(out)?.[1])
  const { ca } = await openCaPool({ stateDir: w.world.stateDir, poolId: DEMO.caPoolId, subject: 'CN=Demo Root CA, O=Demo', keyAlgorithm: 'ECDSA_P256' })
  const client = await issueSvidCertificate(ca, { uri: `spiffe://${DEMO.trustDomain}/ns/test/sa/client`, lifetimeMs: 3_600_000 })

  const first = await get(port, client)
  t.equal(first.body.self, IDENTITY)
  t.equal(first.body.peer, `spiffe://${DEMO.trustDomain}/ns/test/sa/client`, 'the client verified against the bundle from the workload api')
  await server.rotateNow()
  await waitFor(async () => (await get(port, client)).serial !== first.serial, 'the backend to present the rotated svid')
  t.pass('the rotated svid is presented to new connections')
})

t.test('backend --workload-api refuses an unusable address with exit 2', async (t) => {
  const child = spawn(process.execPath, [main, 'backend', '--workload-api', 'unix://relative.sock'], { stdio: ['ignore', 'pipe', 'pipe'] })
  let err = ''
  child.stderr.on('data', (d: Buffer) => { err += d.toString() })
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve))
  t.equal(code, 2)
  t.match(err, /ERR_SPIFFE_CREDENTIALS_WORKLOAD_API_ENDPOINT/)
})
