// bench/relay-floor/compare.mjs, the measurement behind the pooled floor in bench/README.md,
// run once through its command line on the built tree: every side serves and gets a figure.
import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { promisify } from 'node:util'
import t from 'tap'
import { availablePeers } from '../src/bench/proxy/peer-proxies.ts'

const script = new URL('../bench/relay-floor/compare.mjs', import.meta.url).pathname
const built = new URL('../dist/cli/main.js', import.meta.url).pathname

t.test('compare.mjs measures serve, the minimal relay and nginx side by side', { skip: existsSync(built) ? false : 'needs `npm run build` (the test command builds first)' }, async (t) => {
  const { stdout } = await promisify(execFile)(process.execPath, [script, '0.5', '1'], { timeout: 120_000 })
  const lines = stdout.trim().split('\n')
  const nginx = availablePeers(['nginx']).found.has('nginx')
  t.equal(lines.length, nginx ? 3 : 2, stdout)
  t.match(lines[0], /^spiffe-lb serve +\d+\.\d µs CPU per request/)
  t.match(lines[1], /^minimal relay +\d+\.\d µs CPU per request/)
  if (nginx) t.match(lines[2], /^nginx +\d+\.\d µs CPU per request \(1\.00× nginx\)$/)
})
