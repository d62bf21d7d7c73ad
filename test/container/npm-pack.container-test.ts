import t from 'tap'
import { execFile } from 'node:child_process'
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

// The npm package as a user gets it: `npm pack` (which builds dist/ through `prepare`), the
// tarball installed into an empty directory from the registry, and its `spiffe-lb` bin run on
// Node 24 (versions) and on the machine's other Node (the guard's one line, exit 2).
const REPO = fileURLToPath(new URL('../..', import.meta.url))
const pkg = JSON.parse(await import('node:fs').then((fs) => fs.readFileSync(join(REPO, 'package.json'), 'utf8'))) as { name: string, version: string }

interface Run { code: number, stdout: string, stderr: string }
async function run (cmd: string, args: string[], opts: { cwd: string, env?: NodeJS.ProcessEnv }): Promise<Run> {
  return await new Promise((resolve) => {
    execFile(cmd, args, { ...opts, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : -1, stdout, stderr })
    })
  })
}

t.test('npm pack installs into an empty directory and its bin runs', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'spiffe-lb-pack-'))
  t.teardown(async () => { await rm(dir, { recursive: true, force: true }) })
  const packed = await run('npm', ['pack', '--json', '--pack-destination', dir], { cwd: REPO })
  t.equal(packed.code, 0, 'npm pack', { stderr: packed.stderr.slice(-2000) })
  // npm prints the prepare script's output before the JSON report.
  const report = JSON.parse(packed.stdout.slice(packed.stdout.indexOf('['))) as Array<{ filename: string, files: Array<{ path: string }> }>
  const files = report[0]?.files.map((f) => f.path) ?? []
  t.ok(files.includes('dist/cli/main.js'), 'the bin is in the tarball')
  t.ok(['index.html', 'app.js', 'dom.js', 'charts.js', 'app.css', 'icon.svg'].every((f) => files.includes(`dist/admin/dashboard/${f}`)), 'the admin dashboard\'s files are in the tarball')
  t.same(files.filter((f) => /\.test\.|(^|\/)testing\/|^src\/|^test\//.test(f)), [], 'no tests, fixtures or sources')

  const app = join(dir, 'app')
  await run('mkdir', ['-p', app], { cwd: dir })
  await writeFile(join(app, 'package.json'), '{ "name": "empty", "private": true }\n')
  const installed = await run('npm', ['install', '--no-audit', '--no-fund', join(dir, report[0]?.filename ?? '')], { cwd: app })
  t.equal(installed.code, 0, 'npm install of the tarball', { stderr: installed.stderr.slice(-2000) })
  t.same((await readdir(join(app, 'node_modules', '.bin'))).filter((b) => b === 'spiffe-lb'), ['spiffe-lb'])

  // The bin's `#!/usr/bin/env node` picks the first node on PATH: Node 24 first, then the other.
  const bin = join(app, 'node_modules', '.bin', 'spiffe-lb')
  const node24 = { ...process.env, PATH: `${dirname(process.execPath)}:${process.env.PATH ?? ''}` }
  const v = await run(bin, ['--version'], { cwd: app, env: node24 })
  t.equal(v.code, 0, 'spiffe-lb --version on Node 24', { stderr: v.stderr })
  t.equal(v.stdout, `spiffe-lb ${pkg.version}\nnode ${process.versions.node}\nopenssl ${process.versions.openssl}\n`)

  const other = await run('/usr/bin/env', ['node', '-p', 'process.versions.node'], { cwd: app, env: { ...process.env, PATH: `/usr/bin:${process.env.PATH ?? ''}` } })
  const otherVersion = other.stdout.trim()
  if (other.code !== 0 || otherVersion.startsWith('24.')) {
    t.comment('no Node other than 24 at /usr/bin to run the installed bin with')
    return
  }
  const guarded = await run(bin, ['--version'], { cwd: app, env: { ...process.env, PATH: `/usr/bin:${process.env.PATH ?? ''}` } })
  t.equal(guarded.code, 2, `spiffe-lb --version on Node ${otherVersion} exits 2`)
  t.match(guarded.stderr, new RegExp(`^spiffe-lb: ERR_SPIFFE_CLI_NODE_VERSION: needs Node\\.js 24, found "${otherVersion.replaceAll('.', '\\.')}" \\(.+\\), and no node@24 package beside it: run it with Node\\.js 24 .+\\n$`))
})
