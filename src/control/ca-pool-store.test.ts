import { mkdtemp, readFile, rm, stat, unlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { caPoolDir } from './ca-layout.ts'
import { openCaPool } from './ca-pool-store.ts'

async function state (t: { teardown: (fn: () => Promise<void>) => void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'spiffe-lb-state-'))
  t.teardown(async () => { await rm(dir, { recursive: true, force: true }) })
  return dir
}

const opts = (stateDir: string) => ({ stateDir, poolId: 'root-pool', subject: 'CN=Demo Root CA, O=Demo', keyAlgorithm: 'ECDSA_P256' as const })

t.test('created on first use with a 0600 key, reloaded afterwards', async (t) => {
  const stateDir = await state(t)
  const first = await openCaPool(opts(stateDir))
  t.ok(first.created)
  t.equal(first.dir, join(stateDir, 'ca-pools', 'root-pool'))
  t.equal((await stat(first.keyFile)).mode & 0o777, 0o600)
  t.equal(await readFile(first.certFile, 'utf8'), first.ca.certPem)
  const again = await openCaPool(opts(stateDir))
  t.notOk(again.created)
  t.equal(again.ca.cert.fingerprint256, first.ca.cert.fingerprint256)
  t.equal(again.ca.keyAlgorithm, 'ECDSA_P256')
})

t.test('two processes opening at once agree on one CA', async (t) => {
  const stateDir = await state(t)
  const [a, b] = await Promise.all([openCaPool(opts(stateDir)), openCaPool(opts(stateDir))])
  t.equal(a.ca.cert.fingerprint256, b.ca.cert.fingerprint256)
  t.equal((await openCaPool(opts(stateDir))).ca.cert.fingerprint256, a.ca.cert.fingerprint256)
})

const broken: Array<{ name: string, file: 'ca.pem' | 'ca.key.pem', damage: (text: string) => string | undefined, code: string }> = [
  { name: 'garbage certificate', file: 'ca.pem', damage: () => 'garbage\n', code: 'ERR_SPIFFE_CONTROL_STATE_CORRUPT' },
  { name: 'half-written certificate', file: 'ca.pem', damage: (s) => s.slice(0, s.length / 2), code: 'ERR_SPIFFE_CONTROL_STATE_CORRUPT' },
  { name: 'half-written key', file: 'ca.key.pem', damage: (s) => s.slice(0, s.length / 2), code: 'ERR_SPIFFE_CONTROL_STATE_CORRUPT' },
  { name: 'empty key', file: 'ca.key.pem', damage: () => '', code: 'ERR_SPIFFE_CONTROL_STATE_CORRUPT' },
  { name: 'missing key', file: 'ca.key.pem', damage: () => undefined, code: 'ERR_SPIFFE_CONTROL_STATE_INCOMPLETE' },
  { name: 'missing certificate', file: 'ca.pem', damage: () => undefined, code: 'ERR_SPIFFE_CONTROL_STATE_INCOMPLETE' }
]

for (const b of broken) {
  t.test(`${b.name}: an error naming the file, never silently replaced`, async (t) => {
    const stateDir = await state(t)
    const pool = await openCaPool(opts(stateDir))
    const file = join(pool.dir, b.file)
    const damaged = b.damage(await readFile(file, 'utf8'))
    if (damaged === undefined) await unlink(file)
    else await writeFile(file, damaged)
    const err = await openCaPool(opts(stateDir)).then(() => undefined, (e: unknown) => e)
    t.match(err, { code: b.code, at: file })
    t.match((err as Error).message, b.file)
    if (damaged !== undefined) t.equal(await readFile(file, 'utf8'), damaged, 'file left as it was')
  })
}

t.test('a key of another CA is refused, naming both files', async (t) => {
  const stateDir = await state(t)
  const a = await openCaPool(opts(stateDir))
  const b = await openCaPool({ ...opts(stateDir), poolId: 'other-pool' })
  await writeFile(a.keyFile, b.ca.keyPem)
  await t.rejects(openCaPool(opts(stateDir)), { code: 'ERR_SPIFFE_CONTROL_STATE_CORRUPT', message: /ca\.pem.*ca\.key\.pem/ })
})

t.test('pool ids cannot escape the state directory', async (t) => {
  for (const id of ['../x', 'a/b', '', '-a', 'A']) {
    t.throws(() => caPoolDir('/state', id), { code: 'ERR_SPIFFE_CONTROL_POOL_ID' }, id)
  }
})
