import t from 'tap'
import { execFile, execFileSync } from 'node:child_process'
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { rootPem } from '../src/config/testing/config-fixtures.ts'

// Where relative paths resolve: a file argument against the directory the user typed the command
// in (also through `npm run cli`, which npm runs in the package's directory), a path inside a
// config against the config file, as the example's comments say.

// npm and CLI processes on a shared, loaded machine: more than the default 120 s for the file
// (the runner is told; no assertion depends on time).
t.setTimeout(600_000)
const REPO = fileURLToPath(new URL('..', import.meta.url))
const dir = await mkdtemp(join(tmpdir(), 'spiffe-lb-paths-'))
t.teardown(async () => { await rm(dir, { recursive: true, force: true }) })

interface Run { code: number, stdout: string, stderr: string }
async function run (file: string, args: string[], cwd: string): Promise<Run> {
  return await new Promise((resolve) => {
    execFile(file, args, { cwd, timeout: 300_000 }, (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : -1, stdout, stderr })
    })
  })
}

const partnerRoot = await rootPem('CN=Partner Root, O=Partner')
// A name that exists nowhere in the repository: resolved against the repository it would fail.
const certName = `user-dir-${process.pid}.pem`
await writeFile(join(dir, certName), partnerRoot)

const hasNpm = ((): boolean => { try { execFileSync('npm', ['--version'], { stdio: 'ignore' }); return true } catch { return false } })()
t.test('npm run cli resolves file arguments against the directory npm was run from', { skip: hasNpm ? false : 'npm is not on PATH' }, async (t) => {
  const r = await run('npm', ['--prefix', REPO, 'run', '--silent', 'cli', '--', 'inspect', certName], dir)
  t.equal(r.code, 0, r.stderr)
  t.match(r.stdout, /Subject:\s+CN=Partner Root, O=Partner\n/)
})

t.test('examples/two-trust-domains.yaml: its pemFile resolves next to the config, as its comment says', async (t) => {
  const example = await readFile(join(REPO, 'examples', 'two-trust-domains.yaml'), 'utf8')
  t.match(example, 'pemFile: certs/partner-root.pem')
  t.match(example, 'examples/certs/partner-root.pem', 'the comment names where the file is read from')
  t.match(await readFile(join(REPO, 'README.md'), 'utf8'), '`examples/certs/partner-root.pem`')

  const conf = join(dir, 'conf')
  await mkdir(join(dir, 'certs'))
  await mkdir(conf)
  await copyFile(join(REPO, 'examples', 'two-trust-domains.yaml'), join(conf, 'two-trust-domains.yaml'))
  // The root sits beside the working directory, not beside the config: refused, naming the path used.
  await writeFile(join(dir, 'certs', 'partner-root.pem'), partnerRoot)
  const main = join(REPO, 'src', 'cli', 'main.ts')
  const missing = await run(process.execPath, [main, 'serve', '-c', join('conf', 'two-trust-domains.yaml'), '--check'], dir)
  t.equal(missing.code, 2)
  t.match(missing.stderr, `cannot read pem file ${JSON.stringify(join(conf, 'certs', 'partner-root.pem'))}: ENOENT (ERR_SPIFFE_CONFIG_PEM_FILE)`)
  await mkdir(join(conf, 'certs'))
  await writeFile(join(conf, 'certs', 'partner-root.pem'), partnerRoot)
  const found = await run(process.execPath, [main, 'serve', '-c', join('conf', 'two-trust-domains.yaml'), '--check'], dir)
  t.equal(found.code, 0, found.stderr)
})
