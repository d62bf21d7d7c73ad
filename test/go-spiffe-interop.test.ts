// The SPIFFE reference implementation agrees. A go-spiffe v2 program (test/go/go-spiffe-backend,
// built from the Go module proxy) reads its X.509-SVID and bundles from `spiffe-lb workload-api`
// with go-spiffe's own workloadapi client, serves HTTPS with spiffetls, and authorizes only the
// proxy's example.org ID. `serve`, configured with that SPIFFE ID (credentials from a directory,
// no pools), is served through it; an SVID of another example.org ID is refused by it.
import t from 'tap'
import { spawn, type ChildProcess } from 'node:child_process'
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { runCaCreate } from '../src/commands/ca/ca-create.ts'
import { runSvidIssue } from '../src/commands/svid/svid-issue.ts'
import { startWorkloadApiCommand } from '../src/testbed/workload-api-runner.ts'
import { buildGoModule, goModulesUnavailable } from './go-build.ts'

const missing = await goModulesUnavailable()
if (missing !== undefined && process.env.CI !== undefined) throw new Error(`the go-spiffe interop test needs Go and a module proxy in CI: ${missing}`)
const main = new URL('../src/cli/main.ts', import.meta.url).pathname
const quiet = new Writable({ write (_c, _e, cb) { cb() } })
const out = { stdout: quiet, stderr: quiet }
const PROXY_ID = 'spiffe://example.org/ns/lb/sa/frontend'
const POOL_TD = 'demo-pool.global.123456789012.workload.id.goog'
const BACKEND = `//${POOL_TD}/ns/web/sa/backend`

async function waitFor (what: () => boolean, label: string, output: () => string): Promise<void> {
  const end = Date.now() + 60_000
  while (!what()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${label}\n${output()}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

function start (t: Tap, cmd: string, args: string[]): { child: ChildProcess, output: () => string } {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] })
  let text = ''
  child.stdout?.on('data', (d: Buffer) => { text += d.toString() })
  child.stderr?.on('data', (d: Buffer) => { text += d.toString() })
  t.teardown(() => { child.kill('SIGKILL') })
  return { child, output: () => text }
}
type Tap = { teardown: (fn: () => unknown) => void }

t.test('a go-spiffe v2 backend fed by spiffe-lb workload-api serves the proxy\'s example.org id, and only it', { skip: missing ?? false }, async (t) => {
  const bin = await buildGoModule('go-spiffe-backend')
  const dir = await mkdtemp(join(tmpdir(), 'spiffe-lb-go-spiffe-'))
  t.teardown(async () => { await rm(dir, { recursive: true, force: true }) })
  const p = (...parts: string[]): string => join(dir, ...parts)
  // The proxy's example.org SVID, and one of another example.org ID.
  await runCaCreate({ out: p('example-ca'), subject: 'CN=Example Org Root', lifetime: '315360000s' }, out)
  await runSvidIssue({ ca: p('example-ca'), id: PROXY_ID, out: p('proxy-creds'), lifetime: '3600s', dns: [] }, out)
  await runSvidIssue({ ca: p('example-ca'), id: 'spiffe://example.org/ns/lb/sa/intruder', out: p('intruder-creds'), lifetime: '3600s', dns: [] }, out)

  // The backend's side: a pool whose managed identity spiffe-lb workload-api serves, with
  // example.org as a federated bundle so the backend can verify the proxy.
  await writeFile(p('wapi.yaml'), `project: { id: demo-project, number: "123456789012" }
caPools:
  - name: projects/123456789012/locations/us-central1/caPools/root-pool
    certificateAuthorities: [{ id: root-ca, subject: "CN=Demo Root CA, O=Demo", keyAlgorithm: ec-p256-sha256 }]
workloadIdentityPools:
  - id: demo-pool
    inlineCertificateIssuanceConfig:
      caPools: { us-central1: projects/123456789012/locations/us-central1/caPools/root-pool }
    inlineTrustConfig:
      additionalTrustBundles:
        example.org: { trustAnchors: [{ pemFile: example-ca/ca.pem }] }
    namespaces:
      - id: web
        managedIdentities:
          - id: backend
            attestationRules: [{ googleCloudResource: "//compute.googleapis.com/projects/123456789012/type/BackendService/*" }]
backendServices:
  - name: web
    tlsSettings: { identity: "${BACKEND}" }
    backends: [{ endpoints: ["127.0.0.1:1"] }]
credentials: { source: issuer, stateDir: state }
`)
  const socket = `unix://${p('agent.sock')}`
  const wapi = await startWorkloadApiCommand({ config: p('wapi.yaml'), listen: socket, identity: BACKEND }, out)
  if (typeof wapi === 'number') throw new Error(`workload-api exited ${wapi}`)
  t.teardown(async () => { await wapi.close() })

  const go = start(t, bin, ['-socket', socket, '-allow', PROXY_ID])
  await waitFor(() => /listening on 127\.0\.0\.1:\d+/.test(go.output()) || go.child.exitCode !== null, 'the go-spiffe backend to listen', go.output)
  const port = /listening on 127\.0\.0\.1:(\d+)/.exec(go.output())?.[1] ?? ''
  t.match(go.output(), new RegExp(`workloadapi: svid spiffe://${POOL_TD.replaceAll('.', '\\.')}/ns/web/sa/backend, bundles ${POOL_TD.replaceAll('.', '\\.')}=1,example\\.org=1\\n`),
    'go-spiffe\'s workloadapi client read the svid and both bundles of spiffe-lb workload-api')

  // The proxy's side: the SPIFFE-ID form, the SVID from a directory, the backend's pool domain
  // trusted through trustBundles (the root spiffe-lb workload-api issues from).
  const serveConfig = async (name: string, creds: string, identity: string): Promise<string> => {
    await writeFile(p(`${name}.yaml`), `backendServices:
  - name: web
    tlsSettings: { identity: "${identity}" }
    backends: [{ endpoints: ["127.0.0.1:${port}"] }]
frontend: { listen: "127.0.0.1:0" }
admin: { listen: "127.0.0.1:0" }
credentials: { source: directory, directory: ${creds} }
trustBundles:
  ${POOL_TD}: { trustAnchors: [{ pemFile: state/ca-pools/root-pool/ca.pem }] }
`)
    return p(`${name}.yaml`)
  }
  const serve = start(t, process.execPath, [main, 'serve', '-c', await serveConfig('proxy', 'proxy-creds', PROXY_ID), '--log-format', 'json'])
  await waitFor(() => /admin listening on http:/.test(serve.output()), 'serve to listen', serve.output)
  const proxy = /proxy listening on (http:[^\s"]+)/.exec(serve.output())?.[1] ?? ''
  const res = await fetch(`${proxy}/through`)
  t.equal(res.status, 200, 'served through the proxy')
  t.same(await res.json(), { peer: PROXY_ID, self: `spiffe://${POOL_TD}/ns/web/sa/backend`, path: '/through' }, 'go-spiffe authorized the proxy\'s id')

  // Another example.org ID, same CA: go-spiffe's AuthorizeID refuses it in the handshake.
  await chmod(p('intruder-creds', 'private_key.pem'), 0o600)
  const probe = start(t, process.execPath, [main, 'probe', `127.0.0.1:${port}`, '--json', '--cert', p('intruder-creds', 'certificates.pem'),
    '--key', p('intruder-creds', 'private_key.pem'), '--bundle', `${POOL_TD}=${p('state', 'ca-pools', 'root-pool', 'ca.pem')}`])
  const code = await new Promise((resolve) => probe.child.once('exit', resolve))
  t.equal(code, 1, probe.output())
  t.match(probe.output(), /"verdict": "reject"/)
  t.match(probe.output(), /ERR_SPIFFE_TLS_(SVID_REFUSED_AFTER_HANDSHAKE|REFUSED_BY_PEER)/, 'the intruder is refused by the backend')
})
