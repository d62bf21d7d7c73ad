import { mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { openCaPool } from '../src/control/ca-pool-store.ts'
import { runAgent } from '../src/control/agent.ts'
import { createMetadataServer } from '../src/control/metadata-server.ts'
import { createDirectorySource } from '../src/credentials/directory-source.ts'
import { inconsistency } from '../src/credentials/source-suite.ts'
import type { CredentialSnapshot } from '../src/credentials/credential-snapshot.ts'
import { CredentialStore } from '../src/credentials/store.ts'
import { issueSvidCertificate } from '../src/pki/index.ts'
import { SpiffeId } from '../src/spiffe/spiffe-id.ts'

const TD = 'demo-pool.global.123456789012.workload.id.goog'
const IDENTITY = SpiffeId.fromString(`spiffe://${TD}/ns/lb/sa/frontend`)
const ROTATIONS = 10

// metadata-server -> agent (GCE file layout, symlink swaps) -> directory source -> store.
// The CIC lifetime is compressed to 5 s (rotation at 50 % of the validity) so ten rotations take
// seconds; the rules are the same as for 24 h certificates.
t.test(`metadata server + agent + directory source rotate the svid ${ROTATIONS} times`, async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'spiffe-lb-e2e-'))
  t.teardown(async () => { await rm(root, { recursive: true, force: true }) })
  const { ca } = await openCaPool({ stateDir: join(root, 'state'), poolId: 'root-pool', subject: 'CN=E2E Root, O=spiffe-lb' })
  const server = await createMetadataServer({
    listen: { host: '127.0.0.1', port: 0 },
    identity: IDENTITY.toString(),
    issue: async (p) => await issueSvidCertificate(ca, { uri: IDENTITY.toString(), ...p }),
    trustAnchors: () => new Map([[TD, ca.rootPem]]),
    rotation: { lifetimeMs: 5000, rotationWindowPercentage: 50 }
  })
  const outDir = join(root, 'run', 'workload-spiffe-credentials')
  const agent = runAgent({ metadataUrl: server.url, outDir, intervalMs: 100 })
  const store = new CredentialStore({ identity: IDENTITY })
  const source = createDirectorySource({ dir: outDir, debounceMs: 20, pollIntervalMs: 1000, backoff: { initialMs: 50, maxMs: 500 } })
  t.teardown(async () => { await source.stop(); await agent.stop(); await server.close() })

  const published: CredentialSnapshot[] = []
  const rejections: string[] = []
  store.onAttempt((o) => { if (o.error !== undefined) rejections.push(`${o.error.code}: ${o.error.message}`) })
  const problems: string[] = []
  const done = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new Error(`only ${published.length} snapshots within 90 s; server serial ${server.serial}, agent writes ${agent.writes} ` +
        `(last error ${agent.lastError?.message ?? 'none'}), store ${JSON.stringify(store.counters())}, rejections: ${rejections.slice(-5).join(' | ')}`))
    }, 90_000)
    store.subscribe((s) => {
      published.push(s)
      const bad = inconsistency(s, IDENTITY)
      if (bad !== undefined) problems.push(`generation ${s.generation}: ${bad}`)
      if (s.svidGeneration > ROTATIONS) { clearTimeout(timer); resolve() }
    })
  })
  while (agent.writes === 0) await new Promise((resolve) => setTimeout(resolve, 20))
  await source.start(store)
  await done

  t.same(problems, [], 'every published snapshot: key matches leaf, id right, chain verifies')
  const serials = published.map((s) => s.svid.leaf.serialNumber)
  t.equal(new Set(serials).size, serials.length, 'each rotation published a new svid')
  t.ok(published.length >= ROTATIONS + 1)
  t.ok(published.every((s, i) => i === 0 || s.generation > (published[i - 1]?.generation ?? 0)), 'generations increase')
  t.ok(published.every((s) => s.inDate(s.loadedAt)), 'every snapshot was within its validity when published')
  t.equal(published.at(-1)?.bundleGeneration, 1, 'trust anchors never changed')
  t.ok(store.status().ready)
  // Informational only (depends on machine load, so not asserted): replacements that arrived
  // after their predecessor had expired, i.e. moments the proxy would have failed closed.
  const gaps = published.filter((s, i) => i > 0 && s.loadedAt > (published[i - 1]?.svid.notAfter ?? 0)).length
  t.comment(`rotations: ${server.serial}, writes: ${agent.writes}, store: ${JSON.stringify(store.counters())}, gaps: ${gaps}`)
  for (const r of rejections) t.comment(r)

  await source.stop()
  await agent.stop()
  const left = (await readdir(join(root, 'run'))).filter((e) => e.includes('-contents-'))
  t.equal(left.length, 1, 'old generations were removed')
})
