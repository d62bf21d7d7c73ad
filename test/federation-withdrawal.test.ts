import t from 'tap'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { curl, spawnServe, waitFor, type ServeChild } from './workload-api-world.ts'
import { createPartner, serveConfigYaml, spawnBundleEndpoint, startBackend, startDemoBackends, writeSvid } from './federation-world.ts'

// Federation by SPIFFE bundle endpoint when the endpoint cannot be trusted or reached: an
// https_spiffe endpoint presenting another SPIFFE ID is refused; an unreachable endpoint keeps
// its last good bundle until maxBundleAge, then the domain is withdrawn (fail closed).

interface FederationEntry { state: string, sequence: number | null, lastError: string | null }
async function entry (serve: ServeChild, td: string): Promise<FederationEntry | undefined> {
  const status = await serve.status() as unknown as { federation?: Array<FederationEntry & { trustDomain: string }> }
  return status.federation?.find((f) => f.trustDomain === td)
}

t.test('https_spiffe: a wrong endpoint id is refused; an unreachable endpoint is kept, then withdrawn', async (t) => {
  const demo = await startDemoBackends('spiffe-lb-fed-withdraw-')
  t.teardown(demo.stop)
  const b = await createPartner(demo.dir, 'b', '222222222222')
  const endpointId = `spiffe://${b.trustDomain}/bundle-endpoint`
  const svid = await writeSvid(b.ca, join(demo.dir, 'b-endpoint'), endpointId)
  const root = join(demo.dir, 'b-root.pem')
  await writeFile(root, b.ca.rootPem)
  const backend = await startBackend(demo, b.ca, `spiffe://${b.trustDomain}/ns/web/sa/b`, 'b')
  t.teardown(async () => { await backend.stop() })
  const endpoint = await spawnBundleEndpoint(['-c', b.config, '--listen', '127.0.0.1:0', '--cert', svid.cert, '--key', svid.key, '--refresh-hint', '1s'])
  t.teardown(async () => { await endpoint.stop() })
  const config = async (name: string, id: string): Promise<string> => {
    const file = join(demo.dir, name)
    await writeFile(file, serveConfigYaml(demo, `        ${b.trustDomain}:
          bundleEndpoint:
            url: "https://127.0.0.1:${endpoint.port}/"
            profile: https_spiffe
            endpointSpiffeId: "${id}"
            bootstrapBundle: ${root}
            maxBundleAge: 15s
`, [{ name: 'b', port: backend.backend.port }]))
    return file
  }

  await t.test('another endpoint id is refused', async (t) => {
    const other = await spawnServe(await config('wrong-id.yaml', `spiffe://${b.trustDomain}/not-the-endpoint`))
    t.teardown(async () => { await other.stop() })
    const e = await entry(other, b.trustDomain)
    t.match(e, { state: 'pending', sequence: null })
    t.match(e?.lastError, /ERR_SPIFFE_CREDENTIALS_BUNDLE_ENDPOINT_ID_MISMATCH: .*presented "spiffe:\/\/partner-b\.[^"]+\/bundle-endpoint", expected endpointSpiffeId/)
    const res = await curl(`${other.proxy}/b/x`)
    t.equal(res.code, 502)
    t.match(res.body, /ERR_SPIFFE_VERIFY_NO_BUNDLE/, 'no bundle of partner b without an authenticated endpoint')
    t.equal(await other.stop(), 0)
  })

  const serve = await spawnServe(await config('serve.yaml', endpointId))
  t.teardown(async () => { await serve.stop() })
  t.match(await entry(serve, b.trustDomain), { state: 'fresh', sequence: 1, lastError: null })
  t.equal((await curl(`${serve.proxy}/b/x`)).code, 200, 'trusted through the https_spiffe endpoint')

  await endpoint.stop()
  await waitFor(async () => (await entry(serve, b.trustDomain))?.lastError?.includes('ERR_SPIFFE_CREDENTIALS_BUNDLE_ENDPOINT_UNREACHABLE') === true, 'the failed fetch')
  t.equal((await entry(serve, b.trustDomain))?.state, 'stale')
  t.equal((await curl(`${serve.proxy}/b/x`)).code, 200, 'the last good bundle stays while younger than maxBundleAge (15s)')
  await waitFor(async () => (await entry(serve, b.trustDomain))?.state === 'withdrawn', 'the withdrawal', 90_000)
  t.match((await entry(serve, b.trustDomain))?.lastError, /ERR_SPIFFE_CREDENTIALS_BUNDLE_WITHDRAWN: .*last error ERR_SPIFFE_CREDENTIALS_BUNDLE_ENDPOINT_UNREACHABLE/)
  const res = await curl(`${serve.proxy}/b/x`)
  t.equal(res.code, 502, 'withdrawn: fail closed')
  t.match(res.body, /ERR_SPIFFE_VERIFY_NO_BUNDLE/)
  t.notOk((await serve.status()).trustDomains.some((d) => d.trustDomain === b.trustDomain), 'gone from the trusted domains')
  const metrics = (await curl(`${serve.admin}/metrics`)).body
  t.match(metrics, new RegExp(`spiffe_lb_federated_bundle_age_seconds\\{trust_domain="${b.trustDomain.replace(/\./g, '\\.')}",state="withdrawn",last_error="ERR_SPIFFE_CREDENTIALS_BUNDLE_WITHDRAWN"\\} \\d`))
  t.equal(await serve.stop(), 0)
})
