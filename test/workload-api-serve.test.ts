import t from 'tap'
import { startWorkloadApiCommand } from '../src/testbed/workload-api-runner.ts'
import type { WorkloadApiServer } from '../src/control/workload-api-server.ts'
import { DEMO } from '../src/testbed/up-world.ts'
import { IDENTITY, createWapiWorld, curl, quiet, spawnServe, waitFor } from './workload-api-world.ts'

// `spiffe-lb workload-api` (the control plane's Workload API server) feeding `spiffe-lb serve`
// through a Unix socket: traffic, a rotation pushed on the open stream, /status and /metrics.
t.test('serve with source: workload-api carries traffic and follows a pushed rotation', async (t) => {
  const w = await createWapiWorld()
  t.teardown(w.close)
  const started = await startWorkloadApiCommand({ config: w.issuerConfig, listen: w.socket, identity: `//${DEMO.trustDomain}/ns/lb/sa/frontend` }, { stdout: quiet, stderr: quiet })
  if (typeof started === 'number') throw new Error(`workload-api exited ${started}`)
  const server: WorkloadApiServer = started
  t.teardown(async () => { await server.close() })
  const serve = await spawnServe(w.serveConfig)
  t.teardown(async () => { await serve.stop() })

  await waitFor(async () => (await serve.status()).identity?.generation !== undefined, 'the first snapshot')
  const hello = await curl(`${serve.proxy}/hello`)
  t.equal(hello.code, 200, hello.body)
  t.equal(JSON.parse(hello.body).peer, IDENTITY, 'the backend saw the svid from the workload api')
  const partner = await curl(`${serve.proxy}/partner/x`)
  t.equal(partner.code, 200, `partner.example trusted through the federated bundle: ${partner.body}`)
  t.match((await curl(`${serve.proxy}/untrusted/x`)).body, /ERR_SPIFFE_VERIFY_NO_BUNDLE/)

  const before = await serve.status()
  t.match(before.identity, { source: 'workload-api', sourceState: 'streaming' })
  t.same(before.trustDomains.map((d) => d.trustDomain).sort(), [DEMO.partnerDomain, DEMO.trustDomain].sort())

  await server.rotateNow()
  await waitFor(async () => (await serve.status()).identity?.generation === (before.identity?.generation ?? 0) + 1, 'the rotated svid')
  t.equal((await curl(`${serve.proxy}/hello`)).code, 200, 'traffic after the rotation')
  const metrics = (await curl(`${serve.admin}/metrics`)).body
  t.match(metrics, /spiffe_lb_credential_source_info\{[^}]*source="workload-api",state="streaming",last_error=""\} 1/)
  t.equal(await serve.stop(), 0)
})

t.test('workload-api refuses an identity the attestation rules do not admit', async (t) => {
  const w = await createWapiWorld()
  t.teardown(w.close)
  await t.rejects(startWorkloadApiCommand({
    config: w.issuerConfig, listen: w.socket, identity: `//${DEMO.trustDomain}/ns/lb/sa/frontend`,
    resource: `//compute.googleapis.com/projects/${DEMO.projectNumber}/type/Instance/vm-1`
  }, { stdout: quiet, stderr: quiet }), { code: 'ERR_SPIFFE_CONFIG_ATTESTATION_DENIED' })
})
