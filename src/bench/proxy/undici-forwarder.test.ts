import t, { type Test } from 'tap'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { request } from 'undici'
import { staticSnapshotSource } from '../../spiffe/snapshot.ts'
import { startEchoBackend } from '../../testbed/echo-backend.ts'
import type { EchoBackend } from '../../testbed/echo-backend.ts'
import { createBenchPki } from '../bench-pki.ts'
import type { BenchPki } from '../bench-pki.ts'
import { startChild } from '../child-process.ts'
import { startUndiciForwarder, undiciForwarderArgs } from './undici-forwarder.ts'
import type { ForwarderMode } from './undici-forwarder.ts'

let pki: BenchPki
let backend: EchoBackend
let dir: string
t.before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'spiffe-lb-forwarder-'))
  pki = await createBenchPki(dir, 'ECDSA_P256', 1)
  backend = await startEchoBackend({ listen: '127.0.0.1:0', snapshots: staticSnapshotSource(pki.server.svid, pki.bundles) })
})
t.teardown(async () => {
  await backend.close(100)
  await rm(dir, { recursive: true, force: true })
})

const N = 5
// Sequential requests, so every mode's connection count is exact.
const cases: Array<[ForwarderMode, (t: Test, d: { connections: number, resumed: number }) => void]> = [
  ['fresh', (t, d) => { t.equal(d.connections, N, 'one connection per request'); t.equal(d.resumed, 0, 'no session cache') }],
  ['resumed', (t, d) => { t.equal(d.connections, N, 'one connection per request'); t.ok(d.resumed >= 1 && d.resumed <= N - 1, `${d.resumed} resumed after the first full handshake`) }],
  ['pooled', (t, d) => { t.equal(d.connections, 1, 'one keep-alive connection') }]
]

for (const [mode, check] of cases) {
  t.test(`${mode}: forwards to the backend with the client certificate`, async (t) => {
    const fwd = await startUndiciForwarder({ listen: '127.0.0.1:0', backend: `${backend.host}:${backend.port}`, certPem: pki.client.chainPem, keyPem: pki.client.keyPem, mode })
    t.teardown(fwd.close)
    const before = backend.stats()
    for (let i = 0; i < N; i++) {
      const res = await request(`http://${fwd.host}:${fwd.port}/echo/${i}?q=1`)
      t.equal(res.statusCode, 200)
      t.match(await res.body.json(), { peer: pki.client.spiffeId, path: `/echo/${i}?q=1` })
    }
    const after = backend.stats()
    t.equal(after.requests - before.requests, N)
    check(t, { connections: after.connections - before.connections, resumed: after.resumed - before.resumed })
  })
}

t.test('runs as a child process and prints its address', async (t) => {
  const child = await startChild({
    name: 'forwarder',
    args: undiciForwarderArgs({ listen: '127.0.0.1:0', backend: `${backend.host}:${backend.port}`, certFile: pki.client.certFile, keyFile: pki.client.keyFile, mode: 'pooled' }),
    ready: /^listening on (\S+)/
  })
  t.teardown(async () => { await child.stop() })
  const res = await request(`http://${child.ready?.[1] ?? ''}/child`)
  t.equal(res.statusCode, 200)
  t.match(await res.body.json(), { peer: pki.client.spiffeId, path: '/child' })
})

t.test('a bad backend answers 502', async (t) => {
  const fwd = await startUndiciForwarder({ listen: '127.0.0.1:0', backend: '127.0.0.1:1', certPem: pki.client.chainPem, keyPem: pki.client.keyPem, mode: 'fresh' })
  t.teardown(fwd.close)
  const res = await request(`http://${fwd.host}:${fwd.port}/`)
  t.equal(res.statusCode, 502)
  t.match(await res.body.text(), /^bad gateway: /)
})
