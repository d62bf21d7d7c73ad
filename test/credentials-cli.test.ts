import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import t from 'tap'
import { stringify } from 'yaml'
import { runAgentOnce } from '../src/testbed/agent-runner.ts'
import { startMetadataServerCommand } from '../src/testbed/metadata-server-runner.ts'
import { runCli } from '../src/cli/program.ts'
import { baseDoc, edit, rootPem } from '../src/config/testing/config-fixtures.ts'
import { parseTrustBundlesMap } from '../src/spiffe/trust-stores.ts'
import { X509Svid } from '../src/spiffe/x509-svid.ts'

const TD = 'demo-pool.global.123456789012.workload.id.goog'

function sink (): { stream: Writable, text: () => string } {
  let text = ''
  return { stream: new Writable({ write (chunk, _enc, cb) { text += String(chunk); cb() } }), text: () => text }
}

async function setup (t: { teardown: (fn: () => Promise<void>) => void }, doc?: Record<string, unknown>) {
  const dir = await mkdtemp(join(tmpdir(), 'spiffe-lb-cli-'))
  t.teardown(async () => { await rm(dir, { recursive: true, force: true }) })
  const config = join(dir, 'config.yaml')
  await writeFile(config, stringify(doc ?? edit(baseDoc(await rootPem()), [['credentials'], { source: 'issuer', stateDir: 'state' }])))
  const stdout = sink()
  const stderr = sink()
  return { dir, config, out: { stdout: stdout.stream, stderr: stderr.stream }, stdout, stderr }
}

t.test('metadata-server from a config, then agent --once writes the layout', async (t) => {
  const { dir, config, out, stdout } = await setup(t)
  const server = await startMetadataServerCommand({ config, listen: '127.0.0.1:0', lifetime: '60s' }, out)
  if (typeof server === 'number') { t.fail(`exit ${server}`); return }
  t.teardown(async () => { await server.close() })
  t.match(stdout.text(), /listening on http:\/\/127\.0\.0\.1:\d+ for spiffe:\/\/demo-pool\.global\.123456789012\.workload\.id\.goog\/ns\/lb\/sa\/frontend \(lifetime 60s, rotation at 50%/)
  while (server.serial < 1) await new Promise((resolve) => setTimeout(resolve, 10))
  const outDir = join(dir, 'run', 'creds')
  t.equal(await runAgentOnce({ metadata: server.url, out: outDir, interval: '300s' }, out), 0)
  const svid = X509Svid.fromPem(await readFile(join(outDir, 'certificates.pem'), 'utf8'), await readFile(join(outDir, 'private_key.pem'), 'utf8'))
  t.equal(svid.id.toString(), `spiffe://${TD}/ns/lb/sa/frontend`)
  t.equal(svid.notAfter - svid.notBefore, 59_000, '--lifetime overrides the CIC lifetime')
  const bundles = parseTrustBundlesMap(JSON.parse(await readFile(join(outDir, 'trust_bundles.json'), 'utf8')))
  t.same(bundles.trustDomains().map((d) => d.name).sort(), [TD, 'partner.example'].sort(), 'own CA root + additionalTrustBundles')
  t.equal(await readFile(join(dir, 'state', 'ca-pools', 'root-pool', 'ca.pem'), 'utf8'), await readFile(join(outDir, 'ca_certificates.pem'), 'utf8'),
    'issued by the pool CA created in the state directory')
})

t.test('--identity picks another managed identity; an unknown one is refused', async (t) => {
  const { config, out } = await setup(t)
  const server = await startMetadataServerCommand({ config, listen: '127.0.0.1:0', identity: `//${TD}/ns/apps/sa/echo` }, out)
  if (typeof server === 'number') { t.fail(`exit ${server}`); return }
  t.teardown(async () => { await server.close() })
  while (server.serial < 1) await new Promise((resolve) => setTimeout(resolve, 10))
  const res = await fetch(`${server.base}/workload-identities`, { headers: { 'Metadata-Flavor': 'Google' } })
  t.match(await res.text(), `spiffe://${TD}/ns/apps/sa/echo`)
  await t.rejects(startMetadataServerCommand({ config, listen: '127.0.0.1:0', identity: `//${TD}/ns/apps/sa/nobody` }, out),
    { code: 'ERR_SPIFFE_CLI_IDENTITY' })
})

t.test('an invalid config exits 2 naming the problem; a pool without CIC is refused', async (t) => {
  const partner = await rootPem()
  const bad = await setup(t, edit(baseDoc(partner), [['workloadIdentityPools', 0, 'id'], 'X']))
  t.equal(await startMetadataServerCommand({ config: bad.config, listen: '127.0.0.1:0' }, bad.out), 2)
  t.match(bad.stderr.text(), /workloadIdentityPools\[0\]\.id/)
  const noCic = await setup(t, edit(baseDoc(partner), [['workloadIdentityPools', 0, 'inlineCertificateIssuanceConfig'], undefined],
    [['credentials'], { source: 'directory', directory: '/nonexistent' }]))
  await t.rejects(startMetadataServerCommand({ config: noCic.config, listen: '127.0.0.1:0' }, noCic.out), { code: 'ERR_SPIFFE_CONTROL_NO_CIC' })
})

t.test('agent --once against nothing exits 1; bad flags exit 2', async (t) => {
  const { dir, out, stdout } = await setup(t)
  t.equal(await runAgentOnce({ metadata: 'http://127.0.0.1:1', out: join(dir, 'x'), interval: '300s' }, out), 1)
  t.match(JSON.parse(stdout.text().split('\n')[0] ?? ''), { level: 40, code: 'ERR_SPIFFE_CREDENTIALS_METADATA_UNREACHABLE' }, 'logged as a record')
  const saved = process.stderr.write.bind(process.stderr)
  process.stderr.write = () => true
  try {
    t.equal(await runCli(['agent', '--out', join(dir, 'y'), '--interval', '5 min', '--once']), 2)
    t.equal(await runCli(['metadata-server']), 2, '-c is required')
  } finally {
    process.stderr.write = saved
  }
})
