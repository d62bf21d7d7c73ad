import { execFile } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { Writable } from 'node:stream'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import t from 'tap'
import { parseAllDocuments } from 'yaml'
import { deriveResources, loadConfigFile } from '../../config/index.ts'
import { runConfigCheck } from '../../runtime/config-check.ts'
import { runDescribe } from './run-describe.ts'

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..')
const example = join(root, 'examples', 'one-trust-domain.yaml')

/** Runs the real CLI and returns its exit code and output. */
async function cli (...args: string[]): Promise<{ code: number, stdout: string, stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [join(root, 'src', 'cli', 'main.ts'), ...args], { cwd: root })
    return { code: 0, stdout, stderr }
  } catch (err) {
    const e = err as { code: number, stdout: string, stderr: string }
    return { code: e.code, stdout: e.stdout, stderr: e.stderr }
  }
}

/** A stream that keeps what is written. */
function sink (): Writable & { text: () => string } {
  const chunks: string[] = []
  const w = new Writable({ write (chunk: Buffer | string, _enc, done) { chunks.push(chunk.toString()); done() } })
  return Object.assign(w, { text: () => chunks.join('') })
}

let dir = ''
t.before(async () => { dir = await mkdtemp(join(tmpdir(), 'spiffe-lb-cli-')) })
t.teardown(async () => { await rm(dir, { recursive: true, force: true }) })

t.test('describe prints every resource as a YAML stream', async (t) => {
  const r = await cli('describe', '-c', example)
  t.equal(r.code, 0, r.stderr)
  const docs = parseAllDocuments(r.stdout)
  const bodies = (Array.isArray(docs) ? docs : []).map((d) => d.toJS() as Record<string, unknown>)
  t.same(bodies.map((b) => b.kind ?? b.mode ?? b.scope ?? (b.spiffeTrustStores === undefined ? 'bac' : 'tc')),
    ['TRUST_DOMAIN', 'compute#backendService', 'bac', 'CLIENT_AUTH', 'tc'])
})

t.test('describe KIND NAME prints one resource', async (t) => {
  const loaded = await loadConfigFile(example)
  const id = loaded.ok ? deriveResources(loaded.config)[0]?.backendAuthenticationConfig.id ?? '' : ''
  t.match(id, /^mi-bac-/)
  const one = await cli('describe', '-c', example, 'backend-authentication-config', id)
  t.equal(one.code, 0, one.stderr)
  t.match(one.stdout, new RegExp(`^clientCertificate: projects/123456789012/locations/global/certificates/mi-crt-.*\\nname: projects/123456789012/locations/global/backendAuthenticationConfigs/${id}\\n`, 's'))
  t.notMatch(one.stdout, /^---/m, 'one document, no separator')
})

t.test('describe refuses a bad config with exit code 2, listing every error', async (t) => {
  const bad = join(dir, 'bad.yaml')
  await writeFile(bad, 'project: { id: demo-project, number: "123456789012" }\nbackendServices: []\nadmin: { listen: 1 }\n')
  const cfg = await cli('describe', '-c', bad)
  t.equal(cfg.code, 2)
  t.equal(cfg.stdout, '')
  t.equal(cfg.stderr, 'backendServices: must not be empty (ERR_SPIFFE_CONFIG_EMPTY)\n' +
    'admin.listen: must be a string, got number "1" (ERR_SPIFFE_CONFIG_TYPE)\n' +
    `config invalid: ${bad}: 2 errors\n`)
})

t.test('runDescribe refuses an unknown kind or name with exit code 2', async (t) => {
  const cases: Array<[string, string | undefined, RegExp]> = [
    ['load-balancers', undefined, /^spiffe-lb describe: resource kind must be one of .* \(ERR_SPIFFE_CONFIG_UNKNOWN_KIND\)\n$/],
    ['certificates', 'mi-crt-none', /^spiffe-lb describe: no certificates named "mi-crt-none" in .* \(ERR_SPIFFE_CONFIG_RESOURCE_NOT_FOUND\)\n$/]
  ]
  for (const [kind, name, err] of cases) {
    const out = { stdout: sink(), stderr: sink() }
    t.equal(await runDescribe({ config: example, kind, name }, out), 2)
    t.equal(out.stdout.text(), '')
    t.match(out.stderr.text(), err)
  }
})

t.test('describe KIND NAME with a wrong name lists the names that exist', async (t) => {
  const typo = await cli('describe', '-c', example, 'backend-services', 'wbe')
  t.equal(typo.code, 2)
  t.equal(typo.stdout, '')
  t.match(typo.stderr, /^spiffe-lb describe: no backend-services named "wbe" in .*; did you mean "web"\?; backend-services there: web \(ERR_SPIFFE_CONFIG_RESOURCE_NOT_FOUND\)\n$/)
  const far = await cli('describe', '-c', example, 'trust-configs', 'nothing-like-it')
  t.equal(far.code, 2)
  t.match(far.stderr, /no trust-configs named "nothing-like-it" in .*; trust-configs there: mi-tc-\S+ \(ERR_SPIFFE_CONFIG_RESOURCE_NOT_FOUND\)/)
  t.notMatch(far.stderr, 'did you mean')
})

t.test('runConfigCheck: 0 and a summary for a good config', async (t) => {
  const out = { stdout: sink(), stderr: sink() }
  t.equal(await runConfigCheck(example, out), 0)
  t.equal(out.stdout.text(), `config ok: ${example}: project demo-project (123456789012), 1 workload identity pool ` +
    '(demo-pool.global.123456789012.workload.id.goog), 2 managed identities, 0 additional trust domains, ' +
    '1 backend service (1 with an identity), credentials from issuer\n')
  t.equal(out.stderr.text(), '')
})

t.test('runConfigCheck: 2 and every error for a bad config', async (t) => {
  const file = join(dir, 'two-errors.yaml')
  await writeFile(file, `project: { id: demo-project, number: "123456789012" }
workloadIdentityPools:
  - id: ab
backendServices:
  - name: web
    backends: [{ endpoints: ["127.0.0.1"] }]
`)
  const out = { stdout: sink(), stderr: sink() }
  t.equal(await runConfigCheck(file, out), 2)
  t.equal(out.stdout.text(), '')
  t.equal(out.stderr.text(), [
    'workloadIdentityPools[0].id: workload identity pool id must be 4 to 32 characters of lowercase letters, digits and hyphens, starting and ending with a letter or digit, got "ab" (ERR_SPIFFE_CONFIG_POOL_ID)',
    'backendServices[0].backends[0].endpoints[0]: address must be "host:port" (IPv6 as "[::1]:port") with port 1-65535: no port, got "127.0.0.1" (ERR_SPIFFE_CONFIG_ENDPOINT)',
    `config invalid: ${file}: 2 errors`,
    ''
  ].join('\n'))
  const missing = { stdout: sink(), stderr: sink() }
  t.equal(await runConfigCheck(join(dir, 'none.yaml'), missing), 2)
  t.match(missing.stderr.text(), /none\.yaml: cannot read config file .*: ENOENT \(ERR_SPIFFE_CONFIG_READ\)/)
})
