import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { baseDoc, edit, load, rootPem } from '../config/testing/config-fixtures.ts'
import { parsePem } from '../internal/pem.ts'
import { SpiffeId } from '../spiffe/spiffe-id.ts'
import { firstManagedIdentity, openPoolIssuance, poolTrustAnchors } from './pool-issuance.ts'

const TD = 'demo-pool.global.123456789012.workload.id.goog'

t.test('the pool CA of the CIC, its lifetime and window; anchors one bundle per domain', async (t) => {
  const stateDir = await mkdtemp(join(tmpdir(), 'spiffe-lb-pool-'))
  t.teardown(async () => { await rm(stateDir, { recursive: true, force: true }) })
  const partner = await rootPem()
  const ownExtra = await rootPem('CN=Old Demo Root')
  const doc = edit(baseDoc(partner), [['workloadIdentityPools', 0, 'inlineTrustConfig', 'additionalTrustBundles', TD], { trustAnchors: [{ pemCertificate: ownExtra }] }])
  const result = load(doc)
  if (!result.ok) { t.fail(JSON.stringify(result.errors)); return }
  const identity = firstManagedIdentity(result.config)
  t.equal(identity?.toString(), `spiffe://${TD}/ns/lb/sa/frontend`)
  const issuance = await openPoolIssuance(result.config, SpiffeId.fromString(`spiffe://${TD}/ns/apps/sa/echo`), { stateDir })
  t.equal(issuance.caPool.poolId, 'root-pool')
  t.equal(issuance.cic.rotationWindowPercentage, 50)
  t.equal(issuance.ca.keyAlgorithm, 'ECDSA_P256')
  const anchors = poolTrustAnchors(issuance.pool, issuance.ca)
  t.same([...anchors.keys()].sort(), [TD, 'partner.example'].sort())
  t.equal(parsePem(anchors.get(TD) ?? '').length, 2, 'own root plus the own-domain additional anchor')
  t.equal(anchors.get('partner.example'), partner)
  await t.rejects(openPoolIssuance(result.config, SpiffeId.fromString('spiffe://elsewhere.test/x'), { stateDir }), { code: 'ERR_SPIFFE_CONTROL_NO_POOL' })
})
