import t from 'tap'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createRootCa, createSubordinateCa } from '../pki/index.ts'
import { TrustDomain } from '../spiffe/trust-domain.ts'
import { CA_FILES } from './ca-layout.ts'
import { PoolBundle } from './pool-bundle.ts'

const TD = TrustDomain.fromString('partner.example')

t.test('the sequence starts at 1, stays while the anchors stay, grows on a rotation and survives a restart', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'spiffe-lb-pool-bundle-'))
  t.teardown(async () => { await rm(dir, { recursive: true, force: true }) })
  const first = await createRootCa({ subject: 'CN=First', keyAlgorithm: 'ECDSA_P256' })
  await writeFile(join(dir, CA_FILES.cert), first.certPem)
  const bundle = new PoolBundle(dir, TD)
  const a = await bundle.current()
  t.equal(a.sequence, 1)
  t.same(a.bundle.fingerprints(), [first.cert.fingerprint256.replace(/:/g, '').toLowerCase()])
  t.equal((await bundle.current()).sequence, 1, 'unchanged anchors keep the sequence')

  const next = await createRootCa({ subject: 'CN=Next', keyAlgorithm: 'ECDSA_P256' })
  await writeFile(join(dir, CA_FILES.cert), next.certPem)
  const b = await bundle.current()
  t.equal(b.sequence, 2, 'a rotated ca raises the sequence')
  t.match(JSON.parse(await readFile(join(dir, CA_FILES.bundleSequence), 'utf8')), { sequence: 2 })

  const restarted = new PoolBundle(dir, TD)
  t.equal((await restarted.current()).sequence, 2, 'a restart serves the stored sequence')
  // A subordinate CA: root.pem holds the anchors (the old root appended stays served).
  const sub = await createSubordinateCa(next, { subject: 'CN=Sub', keyAlgorithm: 'ECDSA_P256' })
  await writeFile(join(dir, CA_FILES.cert), sub.certPem)
  await writeFile(join(dir, CA_FILES.root), next.certPem + first.certPem)
  const c = await restarted.current()
  t.equal(c.sequence, 3)
  t.equal(c.bundle.authorities.length, 2, 'every root in root.pem is served')
})

t.test('unreadable or garbage ca files are coded errors', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'spiffe-lb-pool-bundle-'))
  t.teardown(async () => { await rm(dir, { recursive: true, force: true }) })
  await t.rejects(new PoolBundle(dir, TD).current(), { code: 'ERR_SPIFFE_CONTROL_STATE_UNREADABLE' })
  await writeFile(join(dir, CA_FILES.cert), 'not a pem')
  await t.rejects(new PoolBundle(dir, TD).current(), { code: 'ERR_SPIFFE_CONTROL_STATE_CORRUPT' })
})
