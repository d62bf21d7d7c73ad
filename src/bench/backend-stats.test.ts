import t from 'tap'
import { mkdtemp, rm } from 'node:fs/promises'
import net from 'node:net'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Client } from 'undici'
import { staticSnapshotSource } from '../spiffe/snapshot.ts'
import { startEchoBackend } from '../testbed/echo-backend.ts'
import { createBenchPki } from './bench-pki.ts'
import { backendCounts, openBackendStats, sumBackendCounts } from './backend-stats.ts'

t.test('window counts and their sums', async (t) => {
  const a = backendCounts({ connections: 10, resumed: 2, requests: 100, rejected: 0, h2Requests: 5 }, { connections: 30, resumed: 17, requests: 140, rejected: 1, h2Requests: 25 })
  t.same(a, { requests: 40, h2Requests: 20, connections: 20, resumed: 15, newConnectionsPerRequest: 0.5, resumedFraction: 0.75 })
  t.same(backendCounts({ connections: 5, resumed: 0, requests: 9, rejected: 0, h2Requests: 0 }, { connections: 5, resumed: 0, requests: 9, rejected: 0, h2Requests: 0 }),
    { requests: 0, h2Requests: 0, connections: 0, resumed: 0, newConnectionsPerRequest: 0, resumedFraction: 0 }, 'an empty window divides by nothing')
  const b = { requests: 60, connections: 60, resumed: 60, newConnectionsPerRequest: 1, resumedFraction: 1 }
  t.same(sumBackendCounts([a, b]), { requests: 100, h2Requests: 20, connections: 80, resumed: 75, newConnectionsPerRequest: 0.8, resumedFraction: 75 / 80 })
})

t.test('the reader subtracts exactly the connections it opened itself, even when one was cut', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'spiffe-lb-backend-stats-'))
  const pki = await createBenchPki(dir, 'ECDSA_P256', 1)
  const backend = await startEchoBackend({ listen: '127.0.0.1:0', snapshots: staticSnapshotSource(pki.server.svid, pki.bundles) })
  // A TCP relay in front of the backend lets the test cut the reader's keep-alive connection.
  const relayed = new Set<net.Socket>()
  const relay = net.createServer((s) => {
    const up = net.connect(backend.port, backend.host)
    relayed.add(s)
    s.pipe(up).pipe(s)
    s.on('error', () => up.destroy())
    up.on('error', () => s.destroy())
    s.once('close', () => { relayed.delete(s); up.destroy() })
  })
  await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve))
  const reader = openBackendStats(`127.0.0.1:${(relay.address() as AddressInfo).port}`, pki.client.chainPem, pki.client.keyPem)
  t.teardown(async () => {
    await reader.close()
    relay.close()
    for (const s of relayed) s.destroy()
    await backend.close(100)
    await rm(dir, { recursive: true, force: true })
  })

  t.same(await reader.read(), { connections: 0, resumed: 0, requests: 0, rejected: 0, h2Requests: 0 }, 'the first read opened a connection: not counted')
  const client = new Client(`https://${backend.host}:${backend.port}`, { allowH2: false, connect: { cert: pki.client.chainPem, key: pki.client.keyPem, rejectUnauthorized: false, maxCachedSessions: 0 } })
  for (let i = 0; i < 3; i++) await (await client.request({ path: `/r${i}`, method: 'GET', reset: true })).body.text()
  await client.close()
  t.same(await reader.read(), { connections: 3, resumed: 0, requests: 3, rejected: 0, h2Requests: 0 }, 'three connections of someone else')
  for (const s of relayed) s.destroy()
  await new Promise((resolve) => setTimeout(resolve, 50))
  t.same(await reader.settle(10, 1000), { connections: 3, resumed: 0, requests: 3, rejected: 0, h2Requests: 0 }, 'a reconnect of the reader is subtracted too, and it did not resume')
  t.equal(backend.stats().connections, 5, 'the backend did count the reader\'s two connections')
})
