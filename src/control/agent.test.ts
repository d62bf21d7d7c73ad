import { lstat, mkdtemp, readFile, readdir, readlink, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { ManualClock } from '../internal/clock.ts'
import { createRootCa, issueSvidCertificate } from '../pki/index.ts'
import { parseTrustBundlesMap } from '../spiffe/trust-stores.ts'
import { X509Svid } from '../spiffe/x509-svid.ts'
import { runAgent } from './agent.ts'
import { createMetadataServer } from './metadata-server.ts'

const TD = 'demo-pool.global.123456789012.workload.id.goog'
const ID = `spiffe://${TD}/ns/lb/sa/frontend`
const HOUR = 3_600_000

async function setup (t: { teardown: (fn: () => Promise<void>) => void }, firstIssueDelayMs = 0) {
  const root = await mkdtemp(join(tmpdir(), 'spiffe-lb-agent-'))
  const clock = new ManualClock(Date.now())
  const ca = await createRootCa({ subject: 'CN=Agent Test Root', notBefore: clock.now() - HOUR })
  const peer = await createRootCa({ subject: 'CN=Peer Root', notBefore: clock.now() - HOUR })
  const server = await createMetadataServer({
    listen: { host: '127.0.0.1', port: 0 },
    identity: ID,
    issue: async (p) => await issueSvidCertificate(ca, { uri: ID, ...p }),
    trustAnchors: () => new Map([[TD, ca.rootPem], ['peer.test', peer.rootPem]]),
    rotation: { lifetimeMs: 24 * HOUR, rotationWindowPercentage: 50 },
    clock,
    firstIssueDelayMs
  })
  t.teardown(async () => { await server.close(); await rm(root, { recursive: true, force: true }) })
  return { root, out: join(root, 'workload-spiffe-credentials'), clock, server, ca }
}

t.test('writes the GCE layout behind an atomically swapped symlink', async (t) => {
  const { root, out, server, ca } = await setup(t)
  while (server.serial < 1) await new Promise((resolve) => setTimeout(resolve, 5))
  const agent = runAgent({ metadataUrl: server.url, outDir: out, once: true })
  t.equal(await agent.first, 'written')
  t.ok((await lstat(out)).isSymbolicLink(), 'outDir is a symlink')
  const target = await readlink(out)
  t.match(target, /^workload-spiffe-credentials-contents-/, 'to a timestamped directory next to it (relative)')
  t.same((await readdir(out)).sort(), ['ca_certificates.pem', 'certificates.pem', 'config_status', 'private_key.pem', 'trust_bundles.json'])
  t.equal((await stat(join(out, 'private_key.pem'))).mode & 0o777, 0o600)
  t.equal((await stat(join(out, 'certificates.pem'))).mode & 0o777, 0o644)
  t.equal(await readFile(join(out, 'config_status'), 'utf8'), '', 'no config errors: empty config_status')
  const svid = X509Svid.fromPem(await readFile(join(out, 'certificates.pem'), 'utf8'), await readFile(join(out, 'private_key.pem'), 'utf8'))
  t.equal(svid.id.toString(), ID)
  t.equal(await readFile(join(out, 'ca_certificates.pem'), 'utf8'), ca.rootPem, 'own trust domain only')
  const doc = JSON.parse(await readFile(join(out, 'trust_bundles.json'), 'utf8')) as { trust_domains: Record<string, { spiffe_sequence: number }> }
  t.same(Object.keys(doc.trust_domains).sort(), [TD, 'peer.test'].sort())
  t.equal(doc.trust_domains[TD]?.spiffe_sequence, 1)
  t.equal(parseTrustBundlesMap(doc).size, 2, 'parses as a GCE trust bundle map')

  // A rotation: a new directory, the symlink swapped, the old one removed.
  await server.rotateNow()
  const again = runAgent({ metadataUrl: server.url, outDir: out, once: true })
  t.equal(await again.first, 'written')
  const next = await readlink(out)
  t.not(next, target)
  const entries = (await readdir(root)).sort()
  t.same(entries, ['workload-spiffe-credentials', next].sort(), 'old directory and temporary link gone')
})

t.test('412 writes nothing; an unchanged answer is not rewritten', async (t) => {
  const { out, server, clock } = await setup(t, 1000)
  const agent = runAgent({ metadataUrl: server.url, outDir: out, intervalMs: 60_000, clock })
  t.equal(await agent.first, 'not-configured')
  await t.rejects(lstat(out), { code: 'ENOENT' })
  clock.advance(1000)
  while (server.serial < 1) await new Promise((resolve) => setTimeout(resolve, 5))
  t.equal(await agent.refreshNow(), 'written')
  t.equal(await agent.refreshNow(), 'unchanged')
  t.equal(agent.writes, 1)
  await agent.stop()
  t.equal(clock.pending, 1, 'only the metadata server\'s rotation timer is left')
})

t.test('config errors are written to config_status; failures are reported, the agent keeps going', async (t) => {
  const { out, server } = await setup(t)
  while (server.serial < 1) await new Promise((resolve) => setTimeout(resolve, 5))
  server.faults.configErrors = { 'iam.googleapis.com': 'bad identity' }
  const a = runAgent({ metadataUrl: server.url, outDir: out, once: true })
  t.equal(await a.first, 'written')
  t.match(await readFile(join(out, 'config_status'), 'utf8'), /partnerMetadataConfigsErrors.*bad identity/)
  server.faults.httpStatus = 500
  const errors: string[] = []
  const b = runAgent({ metadataUrl: server.url, outDir: out, once: true, onError: (e) => errors.push(e.code) })
  await t.rejects(b.first, { code: 'ERR_SPIFFE_CREDENTIALS_METADATA_HTTP' })
  t.same(errors, ['ERR_SPIFFE_CREDENTIALS_METADATA_HTTP'])
  t.ok((await lstat(out)).isSymbolicLink(), 'the last good generation stays in place')
})

t.test('outDir that is a real directory is refused', async (t) => {
  const { root, server } = await setup(t)
  while (server.serial < 1) await new Promise((resolve) => setTimeout(resolve, 5))
  const a = runAgent({ metadataUrl: server.url, outDir: root, once: true })
  await t.rejects(a.first, { code: 'ERR_SPIFFE_CONTROL_OUT_DIR' })
})
