// The package's bin started by an older Node (the system's Node 20): it runs the command under
// the Node the project pins (`node_modules/node`, the `node` dev dependency) instead of
// refusing, with the same arguments, output and exit code. Uses the built dist/ (npm test
// builds first).
import t from 'tap'
import { execFile, execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const REPO = fileURLToPath(new URL('..', import.meta.url))
const bin = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url))

/** Returns a Node binary on this machine whose major version is not 24, if there is one. */
function olderNode (): string | undefined {
  for (const candidate of ['/usr/bin/node', '/usr/local/bin/node', '/bin/node']) {
    if (!existsSync(candidate)) continue
    const version = execFileSync(candidate, ['-p', 'process.versions.node'], { encoding: 'utf8' }).trim()
    if (Number(version.split('.')[0]) !== 24) return candidate
  }
  return undefined
}
const old = olderNode()
const skip = old === undefined ? 'no Node other than 24 is installed' : !existsSync(bin) ? 'dist/ is not built (npm test builds it)' : false

async function run (args: string[]): Promise<{ code: number | null, stdout: string, stderr: string }> {
  return await new Promise((resolve) => {
    // Without npm's PATH: a user's shell, where `node` is the system's.
    execFile(old ?? 'node', [bin, ...args], { cwd: REPO, env: { ...process.env, PATH: '/usr/bin:/bin', NODE_OPTIONS: '' } }, (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : (err as { code?: number }).code ?? null, stdout, stderr })
    })
  })
}

t.test('node dist/cli/main.js on an older Node runs under the pinned Node 24', { skip }, async (t) => {
  const v = await run(['--version'])
  t.equal(v.code, 0, v.stderr)
  t.match(v.stdout, /^spiffe-lb \d+\.\d+\.\d+\nnode 24\.\d+\.\d+\n/, 'the command ran on Node 24')
  t.equal(v.stderr, '')
  const usage = await run(['serve', '--bogus'])
  t.equal(usage.code, 2, 'the exit code passes through')
  t.equal(usage.stderr, 'spiffe-lb: ERR_SPIFFE_CLI_USAGE: unknown option \'--bogus\' (see spiffe-lb serve --help)\n')
})
