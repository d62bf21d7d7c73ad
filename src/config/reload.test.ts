import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { stringify } from 'yaml'
import { reloadConfig } from './reload.ts'
import { IDENTITY, baseDoc, edit, load, rootPem, type Doc } from './testing/config-fixtures.ts'

const partner = await rootPem()
const base = baseDoc(partner)
const ECHO = IDENTITY.replace('/ns/lb/sa/frontend', '/ns/apps/sa/echo')
const RULE = [{ googleCloudResource: '//compute.googleapis.com/projects/123456789012/type/BackendService/*' }]
/** base + a second, identity-less backend service "plain" (and echo attested for backend services) */
const two = edit(base, [['backendServices', 1], { name: 'plain', backends: [{ endpoints: ['127.0.0.1:9000'] }] }],
  [['urlMap', 'pathMatchers'], [{ name: 'm', defaultService: 'plain' }]], [['urlMap', 'hostRules'], [{ hosts: ['p.test'], pathMatcher: 'm' }]],
  [['workloadIdentityPools', 0, 'namespaces', 1, 'managedIdentities', 0, 'attestationRules'], RULE])
const running = load(two)
if (!running.ok) throw new Error(JSON.stringify(running.errors))

const cases: Array<[string, Doc, { codes?: string[], changes?: string[] }]> = [
  ['unchanged', two, { changes: [] }],
  ['endpoints and policy change', edit(two, [['backendServices', 0, 'backends', 0, 'endpoints'], ['127.0.0.1:9443', '127.0.0.1:9445']], [['backendServices', 0, 'localityLbPolicy'], 'RANDOM']),
    { changes: ['backend service "web" changed'] }],
  ['trust bundles change', edit(two, [['workloadIdentityPools', 0, 'inlineTrustConfig'], undefined]), { changes: ['workloadIdentityPools changed'] }],
  ['a new service with an identity', edit(two, [['backendServices', 2], { name: 'new', tlsSettings: { identity: ECHO }, backends: [{ endpoints: ['127.0.0.1:9001'] }] }]),
    { changes: ['backend service "new" added'] }],
  ['a service removed', edit(two, [['backendServices', 1], undefined], [['urlMap'], { defaultService: 'web' }]),
    { changes: ['backend service "plain" removed', 'urlMap changed'] }],
  ['identity changed', edit(two, [['backendServices', 0, 'tlsSettings', 'identity'], ECHO]), { codes: ['ERR_SPIFFE_CONFIG_IDENTITY_IMMUTABLE'] }],
  ['identity added to an existing service', edit(two, [['backendServices', 1, 'tlsSettings'], { identity: ECHO }]), { codes: ['ERR_SPIFFE_CONFIG_IDENTITY_ADDED'] }],
  ['identity removed', edit(two, [['backendServices', 0, 'tlsSettings'], undefined]), { codes: ['ERR_SPIFFE_CONFIG_IDENTITY_REMOVED'] }],
  ['an invalid config', edit(two, [['admin', 'listen'], 'x']), { codes: ['ERR_SPIFFE_CONFIG_LISTEN'] }]
]

t.test('reload rules', async (t) => {
  for (const [what, doc, want] of cases) {
    const r = await reloadConfig(running.config, { text: stringify(doc) })
    if (want.codes !== undefined) {
      t.same(r.ok ? 'accepted' : r.errors.map((e) => e.code), want.codes, what)
    } else {
      t.same(r.ok ? r.changes : r.errors, want.changes, what)
    }
  }
})

t.test('a refused identity change names the path and both identities', async (t) => {
  const r = await reloadConfig(running.config, { text: stringify(edit(two, [['backendServices', 0, 'tlsSettings', 'identity'], ECHO])) })
  t.same(r.ok ? [] : r.errors, [{
    path: 'backendServices[0].tlsSettings.identity',
    code: 'ERR_SPIFFE_CONFIG_IDENTITY_IMMUTABLE',
    message: `identity of backend service "web" is immutable: it is "${IDENTITY}", the new config says "${ECHO}"`
  }])
})

t.test('reload from a file', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'spiffe-lb-reload-'))
  t.teardown(async () => { await rm(dir, { recursive: true, force: true }) })
  const file = join(dir, 'c.yaml')
  await writeFile(file, stringify(edit(two, [['backendServices', 0, 'timeoutSec'], 5])))
  const r = await reloadConfig(running.config, { file })
  t.equal(r.ok ? r.config.backendServices[0]?.timeoutMs : -1, 5000)
  t.equal(r.ok ? r.config.source : '', file)
  const missing = await reloadConfig(running.config, { file: join(dir, 'none.yaml') })
  t.same(missing.ok ? [] : missing.errors.map((e) => e.code), ['ERR_SPIFFE_CONFIG_READ'])
})
