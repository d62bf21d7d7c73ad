import { mkdir, mkdtemp, rename, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { writeCredentialGeneration, type CredentialFiles } from '../control/credential-writer.ts'
import { TrustDomain } from '../spiffe/trust-domain.ts'
import { X509Bundle } from '../spiffe/x509-bundle.ts'
import { createDirectorySource, type DirectorySourceOptions } from './directory-source.ts'
import { GCE_FILES } from './gce-files.ts'
import { nextOutcome, runSourceSuite } from './source-suite.ts'
import { CredentialStore } from './store.ts'
import { IDENTITY, OWN_TD, fixtures, type Material } from './testing/credential-fixtures.ts'
import { TrackingClock } from './testing/tracking-clock.ts'

/** Renders `m` as the GCE files; `trust_bundles.json` is written by hand so a domain can repeat. */
function render (m: Material): CredentialFiles {
  const entries = m.bundles.map(([td, pem]) =>
    `${JSON.stringify(td)}: ${JSON.stringify(X509Bundle.fromPem(TrustDomain.fromString(td), pem).toJwks(1))}`)
  return {
    configStatus: '',
    trustBundles: `{"trust_domains": {${entries.join(', ')}}}\n`,
    caCertificates: m.bundles.find(([td]) => td === OWN_TD)?.[1] ?? '',
    privateKey: m.keyPem,
    certificates: m.chainPem
  }
}

/** Returns the file name → content map of `f`, in the order a careless writer would use. */
function byName (f: CredentialFiles): Record<string, string> {
  const out: Record<string, string> = {}
  const set = (name: string, text: string | undefined): void => { if (text !== undefined) out[name] = text }
  set(GCE_FILES.configStatus, f.configStatus)
  set(GCE_FILES.trustBundles, f.trustBundles)
  set(GCE_FILES.caCertificates, f.caCertificates)
  set(GCE_FILES.privateKey, f.privateKey)
  set(GCE_FILES.certificates, f.certificates)
  return out
}

/** Writes files one by one, each by rename (how simple writers and secret mounts update). */
async function writeInPlace (dir: string, files: Record<string, string>): Promise<void> {
  await mkdir(dir, { recursive: true })
  for (const [name, text] of Object.entries(files)) {
    await writeFile(join(dir, `.${name}.tmp`), text)
    await rename(join(dir, `.${name}.tmp`), join(dir, name))
  }
}

const variants: Array<{ name: string, layout: 'in-place' | 'symlink', opts: Partial<DirectorySourceOptions> }> = [
  // Files renamed one by one are not one atomic update: the debounce must outlast the gap between
  // two renames, which on a loaded machine can exceed 30 ms and expose a consistent half-update.
  { name: 'directory (watch, files renamed one by one)', layout: 'in-place', opts: { debounceMs: 250 } },
  { name: 'directory (watch, guest-agent symlink swap)', layout: 'symlink', opts: { debounceMs: 30 } },
  // A poll has no debounce: between two renames of a one-by-one writer it can read a consistent
  // half-update, so the poll-only suite uses the agent's atomic generation swap.
  { name: 'directory (poll only)', layout: 'symlink', opts: { watch: false, pollIntervalMs: 100 } }
]

for (const v of variants) {
  runSourceSuite(v.name, async (env) => {
    const root = await mkdtemp(join(tmpdir(), 'spiffe-lb-dir-'))
    const dir = join(root, 'workload-spiffe-credentials')
    const publish = async (m: Material): Promise<void> => {
      if (v.layout === 'symlink') await writeCredentialGeneration(dir, render(m), Date.now())
      else await writeInPlace(dir, byName(render(m)))
    }
    await publish(env.first)
    const source = createDirectorySource({ dir, clock: env.clock, backoff: { initialMs: 50, maxMs: 500 }, ...v.opts })
    return { source, publish, close: async () => { await rm(root, { recursive: true, force: true }) } }
  })
}

async function setup (t: { teardown: (fn: () => Promise<void>) => void }, rereadDelayMs = 50) {
  const fx = await fixtures()
  const root = await mkdtemp(join(tmpdir(), 'spiffe-lb-dir-'))
  t.teardown(async () => { await rm(root, { recursive: true, force: true }) })
  const dir = join(root, 'creds')
  const clock = new TrackingClock()
  const store = new CredentialStore({ identity: IDENTITY, clock })
  const source = createDirectorySource({ dir, clock, debounceMs: 20, pollIntervalMs: 0, rereadDelayMs, backoff: { initialMs: 50, maxMs: 200 } })
  t.teardown(async () => { await source.stop() })
  return { fx, dir, store, source }
}

t.test('a directory that appears later is picked up through the parent watch', async (t) => {
  const { fx, dir, store, source } = await setup(t)
  await source.start(store)
  t.match(store.status(), { ready: false, reason: 'pending' })
  t.equal(store.lastError?.code, 'ERR_SPIFFE_CREDENTIALS_DIRECTORY_MISSING')
  const ok = nextOutcome(store, 'accepted', (o) => o.result === 'accepted')
  await writeCredentialGeneration(dir, render(fx.good[0]), Date.now())
  await ok
  t.ok(store.status().ready)
})

t.test('a non-empty config_status is surfaced as an error and keeps the last good snapshot', async (t) => {
  const { fx, dir, store, source } = await setup(t)
  await writeInPlace(dir, byName(render(fx.good[0])))
  await source.start(store)
  const good = store.current()
  t.ok(good)
  const refused = nextOutcome(store, 'config status error', (o) => o.error?.code === 'ERR_SPIFFE_CREDENTIALS_CONFIG_STATUS')
  const status = JSON.stringify({ partnerMetadataConfigsErrors: { errors: { 'wc.compute.googleapis.com': 'invalid ca_pool' } } })
  await writeInPlace(dir, byName({ ...render(fx.good[1]), configStatus: status }))
  const o = await refused
  t.match(o.error?.message, /invalid ca_pool/)
  t.equal(store.current(), good)
  t.equal(o.error?.where, join(dir, GCE_FILES.configStatus))
})

t.test('a half-rotated pair is read again and never published', async (t) => {
  const { fx, dir, store, source } = await setup(t, 300)
  await writeInPlace(dir, byName(render(fx.good[0])))
  await source.start(store)
  const published: string[] = []
  store.subscribe((s) => { published.push(s.svid.leaf.serialNumber) })
  // New key now, the matching chain a moment later: a read in between sees a mismatched pair,
  // waits, reads again and gets the whole new pair, so the very first attempt succeeds.
  await writeInPlace(dir, { [GCE_FILES.privateKey]: fx.good[1].keyPem })
  const first = nextOutcome(store, 'any', () => true)
  const refreshed = source.refresh()
  await writeInPlace(dir, { [GCE_FILES.certificates]: fx.good[1].chainPem })
  await refreshed
  t.equal((await first).result, 'accepted', 'no rejection was reported for the transient state')
  t.same(published.length, 1, 'only the consistent pair was published')
  t.equal(store.current()?.svid.chainPem(), fx.good[1].chainPem)
})

t.test('empty and clean config_status are not errors', async (t) => {
  const { fx, dir, store, source } = await setup(t)
  await writeInPlace(dir, byName({ ...render(fx.good[0]), configStatus: '{"partnerMetadataConfigsErrors":{"errors":{}}}' }))
  await source.start(store)
  t.ok(store.status().ready)
})
