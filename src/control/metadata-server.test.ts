import { X509Certificate, createPrivateKey, createPublicKey } from 'node:crypto'
import t from 'tap'
import { ManualClock } from '../internal/clock.ts'
import { createRootCa, issueSvidCertificate } from '../pki/index.ts'
import { createMetadataServer, type MetadataServerOptions } from './metadata-server.ts'

const TD = 'demo-pool.global.123456789012.workload.id.goog'
const ID = `spiffe://${TD}/ns/lb/sa/frontend`
const HOUR = 3_600_000

async function start (t: { teardown: (fn: () => Promise<void>) => void }, extra: Partial<MetadataServerOptions> = {}) {
  const clock = new ManualClock(Math.floor(Date.now() / 1000) * 1000) // whole second: X.509 resolution
  const ca = await createRootCa({ subject: 'CN=MDS Test Root', notBefore: clock.now() - HOUR })
  let issued = 0
  const server = await createMetadataServer({
    listen: { host: '127.0.0.1', port: 0 },
    identity: ID,
    issue: async (p) => { issued++; return await issueSvidCertificate(ca, { uri: ID, ...p }) },
    trustAnchors: () => new Map([[TD, ca.rootPem]]),
    rotation: { lifetimeMs: 24 * HOUR, rotationWindowPercentage: 50 },
    clock,
    ...extra
  })
  t.teardown(async () => { await server.close() })
  const get = async (endpoint: string, headers: Record<string, string> = { 'Metadata-Flavor': 'Google' }) => {
    const res = await fetch(`${server.base}/${endpoint}`, { headers })
    return { status: res.status, text: await res.text() }
  }
  const json = async (endpoint: string): Promise<Record<string, Record<string, Record<string, string>>>> => JSON.parse((await get(endpoint)).text)
  const waitServed = async (serial: number): Promise<void> => { while (server.serial < serial) await new Promise((resolve) => setTimeout(resolve, 5)) }
  return { clock, ca, server, get, json, waitServed, issued: () => issued }
}

t.test('endpoints and JSON shapes of seed 003', async (t) => {
  const { server, get, json, waitServed, ca } = await start(t)
  await waitServed(1)
  const wi = await json('workload-identities')
  t.same(Object.keys(wi), ['workloadCredentials'])
  t.same(Object.keys(wi.workloadCredentials ?? {}), [ID])
  const cred = wi.workloadCredentials?.[ID] ?? {}
  t.same(Object.keys(cred).sort(), ['certificatePem', 'privateKeyPem'])
  const leaf = new X509Certificate(cred.certificatePem ?? '')
  t.ok(leaf.checkPrivateKey(createPrivateKey(cred.privateKeyPem ?? '')), 'key belongs to the certificate')
  t.same(await json('trust-anchors'), { trustAnchors: { [TD]: { trustAnchorsPem: ca.rootPem } } })
  t.same(await json('config-status'), {})
  t.equal((await get('workload-identities', {})).status, 403, 'Metadata-Flavor: Google is required')
  t.equal((await get('workload-identities', { 'Metadata-Flavor': 'google-ish' })).status, 403)
  t.equal((await get('nope')).status, 404)
  t.equal((await fetch(`${server.url}/computeMetadata/v1/instance/id`, { headers: { 'Metadata-Flavor': 'Google' } })).status, 404)
})

t.test('412 until the identity is issued, then rotation per the policy', async (t) => {
  const { clock, server, get, waitServed, issued } = await start(t, { firstIssueDelayMs: 1000 })
  for (const e of ['workload-identities', 'trust-anchors', 'config-status']) t.equal((await get(e)).status, 412, e)
  clock.advance(1000)
  await waitServed(1)
  t.equal((await get('workload-identities')).status, 200)
  const due = server.nextRotationAt ?? 0
  // 50 % of the leaf's validity, which is the lifetime minus the last second (notAfter is inclusive).
  t.equal(due - clock.now(), (24 * HOUR - 1000) / 2, 'next issuance at 50 % of the lifetime')
  clock.advance(due - clock.now() - 1)
  t.equal(issued(), 1)
  clock.advance(1)
  await waitServed(2)
  t.equal(issued(), 2)
})

t.test('faults: mismatched key, expired cert, http status, config errors, slow answers', async (t) => {
  const { server, get, json, waitServed } = await start(t)
  await waitServed(1)
  const cred = async () => (await json('workload-identities')).workloadCredentials?.[ID] ?? {}
  server.faults.mismatchedKey = true
  const m = await cred()
  const leaf = new X509Certificate(m.certificatePem ?? '')
  t.notOk(leaf.publicKey.export({ format: 'jwk' }).x === createPublicKey(createPrivateKey(m.privateKeyPem ?? '')).export({ format: 'jwk' }).x,
    'the key does not belong to the certificate')
  server.faults.mismatchedKey = false
  server.faults.expiredCert = true
  const e = await cred()
  t.ok(new X509Certificate(e.certificatePem ?? '').validToDate.getTime() < Date.now(), 'expired')
  server.faults.expiredCert = false
  server.faults.httpStatus = 500
  t.equal((await get('trust-anchors')).status, 500)
  delete server.faults.httpStatus
  server.faults.configErrors = { 'wc.compute.googleapis.com': 'bad ca pool' }
  t.same(await json('config-status'), { partnerMetadataConfigsErrors: { errors: { 'wc.compute.googleapis.com': 'bad ca pool' } } })
  server.faults.delayMs = 5000
  await t.rejects(fetch(`${server.base}/config-status`, { headers: { 'Metadata-Flavor': 'Google' }, signal: AbortSignal.timeout(100) }),
    { name: 'TimeoutError' }, 'a client with a short timeout gives up on the slow answer')
})
