import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Client, Metadata, credentials, status, type StatusObject } from '@grpc/grpc-js'
import t from 'tap'
import { CredentialStore } from '../credentials/store.ts'
import { IDENTITY, OWN_TD, fixtures } from '../credentials/testing/credential-fixtures.ts'
import { nextOutcome } from '../credentials/source-suite.ts'
import { parseWorkloadApiEndpoint } from '../credentials/workload-api-endpoint.ts'
import { createWorkloadApiSource } from '../credentials/workload-api-source.ts'
import { WORKLOAD_API_HEADER, workloadApiService, type X509BundlesResponse } from '../credentials/workload-api-wire.ts'
import { issueSvidCertificate } from '../pki/index.ts'
import { createWorkloadApiServer, type WorkloadApiServer } from './workload-api-server.ts'

async function start (t: { teardown: (fn: () => Promise<void>) => void }): Promise<WorkloadApiServer> {
  const fx = await fixtures()
  const dir = mkdtempSync(join(tmpdir(), 'spiffe-lb-wapi-server-'))
  const server = await createWorkloadApiServer({
    listen: parseWorkloadApiEndpoint(`unix://${join(dir, 'api.sock')}`, 'test'),
    identity: IDENTITY.toString(),
    trustDomain: OWN_TD,
    issue: async (p) => await issueSvidCertificate(fx.intermediate, { uri: IDENTITY.toString(), ...p }),
    trustAnchors: () => new Map([[OWN_TD, fx.root.rootPem], ['peer.test', fx.peerRoot.rootPem]]),
    rotation: { lifetimeMs: 3_600_000, rotationWindowPercentage: 50 }
  })
  t.teardown(async () => { await server.close(); rmSync(dir, { recursive: true, force: true }) })
  return server
}

/** Opens `method` with or without the header; resolves with the first message or the final status. */
function first<T> (address: string, method: 'FetchX509SVID' | 'FetchX509Bundles', header: boolean): Promise<{ msg?: T, status?: StatusObject }> {
  const client = new Client(parseWorkloadApiEndpoint(address, 'test').target, credentials.createInsecure())
  const def = workloadApiService()[method]
  if (def === undefined) throw new Error(method)
  const md = new Metadata()
  if (header) md.set(WORKLOAD_API_HEADER, 'true')
  const call = client.makeServerStreamRequest(def.path, def.requestSerialize, def.responseDeserialize as (b: Buffer) => T, {}, md)
  return new Promise((resolve) => {
    call.on('error', () => {})
    call.on('data', (msg: T) => { call.cancel(); client.close(); resolve({ msg }) })
    call.on('status', (s: StatusObject) => { client.close(); resolve({ status: s }) })
  })
}

t.test('a request without workload.spiffe.io: true is InvalidArgument, on both methods', async (t) => {
  const server = await start(t)
  for (const method of ['FetchX509SVID', 'FetchX509Bundles'] as const) {
    const r = await first(server.address, method, false)
    t.equal(r.status?.code, status.INVALID_ARGUMENT, method)
    t.match(r.status?.details, /security header missing/)
  }
})

t.test('serves the identity, its bundle and the federated bundles, and pushes each rotation', async (t) => {
  const server = await start(t)
  const source = createWorkloadApiSource({ endpoint: server.address })
  t.teardown(async () => { await source.stop() })
  const store = new CredentialStore({ identity: IDENTITY })
  await source.start(store)
  const s1 = store.current()
  t.ok(s1, 'the source accepted what the server sent (key matches the leaf, chain verifies)')
  t.same(s1?.bundles.trustDomains().map((td) => td.name), [OWN_TD, 'peer.test'].sort())
  t.equal(server.streams, 1)
  const rotated = nextOutcome(store, 'the rotated svid', (o) => o.result === 'accepted')
  await server.rotateNow()
  const s2 = (await rotated).snapshot
  t.equal(server.serial, 2)
  t.same([s2?.svidGeneration, s2?.bundleGeneration], [2, 1], 'a new svid on the open stream, same bundles')
  t.not(s2?.svid.leaf.serialNumber, s1?.svid.leaf.serialNumber)
})

t.test('FetchX509Bundles sends every domain, the own one included, keyed spiffe://td', async (t) => {
  const server = await start(t)
  const r = await first<X509BundlesResponse>(server.address, 'FetchX509Bundles', true)
  t.same(Object.keys(r.msg?.bundles ?? {}).sort(), [`spiffe://${OWN_TD}`, 'spiffe://peer.test'])
  t.ok((r.msg?.bundles[`spiffe://${OWN_TD}`]?.length ?? 0) > 0)
})
