import t from 'tap'
import { execFile, execFileSync } from 'node:child_process'
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

// `--version` and the Node-version guard, driven through the CLI as users run it: from source,
// from the built `dist/cli/main.js` (the package's bin), and with a Node other than 24.
const REPO = fileURLToPath(new URL('..', import.meta.url))
const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string, engines: { node: string } }

interface Run { code: number, stdout: string, stderr: string }
async function run (node: string, args: string[]): Promise<Run> {
  return await new Promise((resolve) => {
    execFile(node, args, { cwd: REPO }, (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : -1, stdout, stderr })
    })
  })
}

const expected = `spiffe-lb ${pkg.version}\nnode ${process.versions.node}\nopenssl ${process.versions.openssl}\n`
for (const entry of ['src/cli/main.ts', 'dist/cli/main.js']) {
  t.test(`${entry} --version prints the spiffe-lb, Node and OpenSSL versions`, async (t) => {
    for (const flag of ['--version', '-V']) {
      const r = await run(process.execPath, [entry, flag])
      t.equal(r.code, 0, r.stderr)
      t.equal(r.stdout, expected)
      t.equal(r.stderr, '')
    }
  })
}

/** Returns every `node` on PATH (and /usr/bin/node) whose major version is not 24. */
function otherNodes (): Array<{ path: string, version: string }> {
  const paths = new Set<string>()
  for (const dir of (process.env.PATH ?? '').split(':').concat('/usr/bin')) {
    try { paths.add(realpathSync(`${dir}/node`)) } catch { /* no node there */ }
  }
  const found: Array<{ path: string, version: string }> = []
  for (const path of paths) {
    try {
      const version = execFileSync(path, ['-p', 'process.versions.node'], { encoding: 'utf8' }).trim()
      if (!version.startsWith('24.')) found.push({ path, version })
    } catch { /* not runnable */ }
  }
  return found
}

t.test('package.json engines.node starts at the major the guard checks', async (t) => {
  t.equal(/^>=(\d+)\b/.exec(pkg.engines.node)?.[1], '24')
})

const others = otherNodes()
// With the pinned `node` package beside it the bin re-runs itself under Node 24 (test/cli-old-node.test.ts);
// a copy of the bin with no node_modules around it shows the guard that remains.
t.test('on a Node other than 24, with no pinned Node beside it, the built CLI says what it needs and exits 2', {
  skip: others.length === 0 ? 'no Node other than 24 on PATH or at /usr/bin/node to run the guard with' : false
}, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'spiffe-lb-guard-'))
  t.teardown(() => { rmSync(dir, { recursive: true, force: true }) })
  mkdirSync(join(dir, 'cli'))
  mkdirSync(join(dir, 'internal'))
  copyFileSync(join(REPO, 'dist/cli/main.js'), join(dir, 'cli/main.js'))
  copyFileSync(join(REPO, 'dist/internal/pinned-node.js'), join(dir, 'internal/pinned-node.js'))
  writeFileSync(join(dir, 'package.json'), '{"type":"module"}\n')
  for (const { path, version } of others) {
    for (const args of [['--version'], ['serve', '-c', 'examples/one-trust-domain.yaml', '--check']]) {
      const r = await run(path, [join(dir, 'cli/main.js'), ...args])
      t.equal(r.code, 2, `${path} ${args.join(' ')}`)
      t.equal(r.stdout, '')
      t.match(r.stderr, `spiffe-lb: ERR_SPIFFE_CLI_NODE_VERSION: needs Node.js 24, found ${JSON.stringify(version)} (${path}), and no node@24 package beside it`)
      t.equal(r.stderr.split('\n').length, 2, 'one line')
    }
  }
})
