import t from 'tap'
import { checkAttestation, matchesAttestationRule } from './attestation.ts'
import { parseIdentity } from './identity.ts'
import { BACKEND_SERVICE_RULE, IDENTITY, NUMBER, baseDoc, edit, load, rootPem } from './testing/config-fixtures.ts'
import type { SpiffeLbConfig } from './types.ts'

t.test('parseIdentity maps //TD/ns/NS/sa/ID to spiffe://TD/ns/NS/sa/ID', async (t) => {
  const id = parseIdentity(IDENTITY)
  t.equal(id.spiffeId.toString(), `spiffe://demo-pool.global.${NUMBER}.workload.id.goog/ns/lb/sa/frontend`)
  t.same({ ...id, spiffeId: undefined }, { form: 'managed', name: IDENTITY, spiffeId: undefined, poolId: 'demo-pool', projectNumber: NUMBER, namespace: 'lb', managedIdentity: 'frontend' })
})

t.test('parseIdentity takes any spiffe id as it is', async (t) => {
  const id = parseIdentity('spiffe://example.org/ns/lb/sa/frontend')
  t.same({ form: id.form, name: id.name, spiffeId: id.spiffeId.toString() }, { form: 'spiffe', name: 'spiffe://example.org/ns/lb/sa/frontend', spiffeId: 'spiffe://example.org/ns/lb/sa/frontend' })
  t.throws(() => parseIdentity('spiffe://Example.org/x'), { code: 'ERR_SPIFFE_CONFIG_IDENTITY_FORMAT', message: /identity must be a spiffe id/ })
})

t.test('parseIdentity refuses other forms', async (t) => {
  const cases: Array<[string, RegExp]> = [
    ['demo-pool.global.1.workload.id.goog/ns/a/sa/b', /it must start with "\/\/"/],
    ['//example.org/ns/lb/sa/frontend', /not a workload identity pool domain/],
    [`//demo-pool.global.${NUMBER}.workload.id.goog/ns/lb`, /the path must be \/ns\/NAMESPACE\/sa\/MANAGED_IDENTITY/],
    [`//demo-pool.global.${NUMBER}.workload.id.goog/ns/lb/sa/frontend/x`, /the path must be/],
    [`//demo-pool.global.${NUMBER}.workload.id.goog/sa/lb/ns/frontend`, /the path must be/],
    [`//Demo-Pool.global.${NUMBER}.workload.id.goog/ns/lb/sa/frontend`, /identity must be/],
    [`//demo-pool.global.${NUMBER}.workload.id.goog/ns//sa/frontend`, /identity must be/]
  ]
  for (const [text, why] of cases) t.throws(() => parseIdentity(text), { code: 'ERR_SPIFFE_CONFIG_IDENTITY_FORMAT', message: why }, text)
})

t.test('attestation rule globs', async (t) => {
  const bs = (p: string, name: string): string => `//compute.googleapis.com/projects/${p}/type/BackendService/${name}`
  const cases: Array<[string, string, boolean]> = [
    [BACKEND_SERVICE_RULE, bs(NUMBER, 'web'), true],
    [BACKEND_SERVICE_RULE, bs(NUMBER, 'a-very-long-name-1'), true],
    [BACKEND_SERVICE_RULE, bs('999', 'web'), false],
    [BACKEND_SERVICE_RULE, `//compute.googleapis.com/projects/${NUMBER}/type/Instance/web`, false],
    [BACKEND_SERVICE_RULE, `${bs(NUMBER, 'web')}/x`, false],
    [bs(NUMBER, 'web'), bs(NUMBER, 'web'), true],
    [bs(NUMBER, 'web'), bs(NUMBER, 'web2'), false],
    [bs(NUMBER, 'web-*'), bs(NUMBER, 'web-eu'), true],
    [bs(NUMBER, 'web-*'), bs(NUMBER, 'api-eu'), false],
    // regex metacharacters in a rule are literal
    [bs(NUMBER, 'w.b'), bs(NUMBER, 'web'), false]
  ]
  for (const [rule, resource, want] of cases) t.equal(matchesAttestationRule(rule, resource), want, `${rule} ~ ${resource}`)
})

t.test('checkAttestation', async (t) => {
  const pem = await rootPem()
  const loaded = load(edit(baseDoc(pem), [['workloadIdentityPools', 0, 'namespaces', 1, 'managedIdentities', 0, 'attestationRules'], [
    { googleCloudResource: `//compute.googleapis.com/projects/${NUMBER}/type/Instance/*` },
    { googleCloudResource: `//compute.googleapis.com/projects/${NUMBER}/type/BackendService/internal` }
  ]]))
  if (!loaded.ok) throw new Error(JSON.stringify(loaded.errors))
  const config: SpiffeLbConfig = loaded.config
  const web = `//compute.googleapis.com/projects/${NUMBER}/type/BackendService/web`
  t.equal(checkAttestation(config, IDENTITY, web), BACKEND_SERVICE_RULE, 'by the // form')
  t.equal(checkAttestation(config, parseIdentity(IDENTITY).spiffeId, web), BACKEND_SERVICE_RULE, 'by SPIFFE ID')
  t.equal(checkAttestation(config, `spiffe:${IDENTITY}`, web), BACKEND_SERVICE_RULE, 'by the spiffe:// string')
  const echo = `//demo-pool.global.${NUMBER}.workload.id.goog/ns/apps/sa/echo`
  t.throws(() => checkAttestation(config, echo, web), {
    code: 'ERR_SPIFFE_CONFIG_ATTESTATION_DENIED',
    message: `identity "${echo}" is not attested for "${web}": no attestation rule matches (rules: ` +
      `"//compute.googleapis.com/projects/${NUMBER}/type/Instance/*", "//compute.googleapis.com/projects/${NUMBER}/type/BackendService/internal")`
  })
  const unknown = `//demo-pool.global.${NUMBER}.workload.id.goog/ns/apps/sa/nobody`
  t.throws(() => checkAttestation(config, unknown, web), {
    code: 'ERR_SPIFFE_CONFIG_ATTESTATION_DENIED',
    message: `identity "${unknown}" is not attested for "${web}": no such managed identity, so no attestation rules`
  })
})
