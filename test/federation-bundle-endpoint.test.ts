import t from 'tap'
import { rename, writeFile } from 'node:fs/promises'
import { execFile } from 'node:child_process'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { CA_FILES } from '../src/control/ca-layout.ts'
import { createRootCa } from '../src/pki/index.ts'
import { curl, spawnServe, waitFor, type ServeChild } from './workload-api-world.ts'
import { createPartner, serveConfigYaml, spawnBundleEndpoint, startBackend, startDemoBackends, writeSvid, writeWebCertificate, type EndpointChild } from './federation-world.ts'

// Federation by SPIFFE bundle endpoint, end to end: two `spiffe-lb bundle-endpoint` processes
// (partner A over https_web, partner B over https_spiffe) feed a `spiffe-lb serve`; a rotation of
// A's CA reaches the proxy at the next poll, and a sequence going backwards is refused.
// federation-withdrawal.test.ts covers a wrong endpoint ID and an unreachable endpoint.

const run = promisify(execFile)
const main = new URL('../src/cli/main.ts', import.meta.url).pathname

interface FederationEntry { trustDomain: string, endpoint: string, state: string, sequence: number | null, lastError: string | null, lastFetch: string | null }
async function federation (serve: ServeChild): Promise<Map<string, FederationEntry>> {
  const status = await serve.status() as unknown as { federation?: FederationEntry[] }
  return new Map((status.federation ?? []).map((f) => [f.trustDomain, f]))
}

t.test('bundle endpoints feed serve: both profiles, a partner ca rotation, a sequence rollback', async (t) => {
  const demo = await startDemoBackends('spiffe-lb-fed-e2e-')
  t.teardown(demo.stop)
  const a = await createPartner(demo.dir, 'a', '111111111111')
  const b = await createPartner(demo.dir, 'b', '222222222222')
  const web = await writeWebCertificate(join(demo.dir, 'web'))
  const bEndpointId = `spiffe://${b.trustDomain}/bundle-endpoint`
  const bSvid = await writeSvid(b.ca, join(demo.dir, 'b-endpoint'), bEndpointId)
  const bRoot = join(demo.dir, 'b-root.pem')
  await writeFile(bRoot, b.ca.rootPem)

  // A's next CA exists before the rotation, so a backend with an SVID from it runs from the start.
  const nextA = await createRootCa({ subject: 'CN=Partner a Root 2', keyAlgorithm: 'ECDSA_P256' })
  const backends = {
    aOld: await startBackend(demo, a.ca, `spiffe://${a.trustDomain}/ns/web/sa/old`, 'a-old'),
    aNew: await startBackend(demo, nextA, `spiffe://${a.trustDomain}/ns/web/sa/new`, 'a-new'),
    b: await startBackend(demo, b.ca, `spiffe://${b.trustDomain}/ns/web/sa/b`, 'b')
  }
  t.teardown(async () => { await Promise.all(Object.values(backends).map(async (x) => { await x.stop() })) })

  const endpoints: { a: EndpointChild, b: EndpointChild } = {
    a: await spawnBundleEndpoint(['-c', a.config, '--listen', '127.0.0.1:0', '--cert', web.cert, '--key', web.key, '--refresh-hint', '1s']),
    b: await spawnBundleEndpoint(['-c', b.config, '--listen', '127.0.0.1:0', '--cert', bSvid.cert, '--key', bSvid.key, '--refresh-hint', '1s'])
  }
  t.teardown(async () => { await Promise.all(Object.values(endpoints).map(async (e) => await e.stop())) })
  t.match(endpoints.a.output(), new RegExp(`for trust domain ${a.trustDomain.replace(/\./g, '\\.')} .*spiffe_sequence 1, 1 anchor, refresh hint 1s`))

  // The spec's shape, read by curl over web PKI (the name in the certificate is localhost).
  const served = await run('curl', ['-sS', '--cacert', web.caFile, `https://localhost:${endpoints.a.port}/bundle`])
  const doc = JSON.parse(served.stdout) as { keys: Array<{ use: string, x5c: string[], kty: string }>, spiffe_sequence: number, spiffe_refresh_hint: number }
  t.match(doc, { spiffe_sequence: 1, spiffe_refresh_hint: 1, keys: [{ use: 'x509-svid', kty: 'EC' }] })
  t.equal(doc.keys[0]?.x5c[0], a.ca.cert.raw.toString('base64'), 'the pool ca root, as x5c')

  const aPort = endpoints.a.port
  const bPort = endpoints.b.port
  const trust = `        ${a.trustDomain}:
          bundleEndpoint: { url: "https://localhost:${aPort}/bundle", profile: https_web, caFile: ${web.caFile} }
        ${b.trustDomain}:
          bundleEndpoint:
            url: "https://127.0.0.1:${bPort}/"
            profile: https_spiffe
            endpointSpiffeId: "${bEndpointId}"
            bootstrapBundle: ${bRoot}
`
  const services = [
    { name: 'web', port: demo.ports.get('backend-1') ?? 0 },
    { name: 'a-old', port: backends.aOld.backend.port },
    { name: 'a-new', port: backends.aNew.backend.port },
    { name: 'b', port: backends.b.backend.port }
  ]
  const config = join(demo.dir, 'serve.yaml')
  await writeFile(config, serveConfigYaml(demo, trust, services))
  const serve = await spawnServe(config)
  t.teardown(async () => { await serve.stop() })

  // Both domains are fetched before the first request.
  const first = await federation(serve)
  t.match(first.get(a.trustDomain), { state: 'fresh', sequence: 1, endpoint: `https://localhost:${aPort}/bundle`, lastError: null })
  t.match(first.get(b.trustDomain), { state: 'fresh', sequence: 1, lastError: null })
  t.equal((await curl(`${serve.proxy}/web/x`)).code, 200)
  t.equal((await curl(`${serve.proxy}/a-old/x`)).code, 200, 'partner a trusted through its https_web bundle endpoint')
  t.equal((await curl(`${serve.proxy}/b/x`)).code, 200, 'partner b trusted through its https_spiffe bundle endpoint')
  const refused = await curl(`${serve.proxy}/a-new/x`)
  t.equal(refused.code, 502, 'an svid of the next ca is not trusted yet')
  t.match(refused.body, /ERR_SPIFFE_VERIFY_/)

  await t.test('a rotated partner ca is seen at the next poll', async (t) => {
    // What `ca create-root --force --out <pool dir>` does, in one step per file.
    const tmp = join(a.caDir, 'next')
    await writeFile(`${tmp}.key`, nextA.keyPem, { mode: 0o600 })
    await writeFile(`${tmp}.pem`, nextA.certPem)
    await rename(`${tmp}.key`, join(a.caDir, CA_FILES.key))
    await rename(`${tmp}.pem`, join(a.caDir, CA_FILES.cert))
    await waitFor(async () => (await federation(serve)).get(a.trustDomain)?.sequence === 2, 'sequence 2 of partner a')
    await waitFor(async () => (await curl(`${serve.proxy}/a-new/x`)).code === 200, 'the backend of the new ca accepted', 60_000)
    const old = await curl(`${serve.proxy}/a-old/x`)
    t.equal(old.code, 502, 'the backend of the removed ca is rejected')
    t.match(old.body, /ERR_SPIFFE_VERIFY_/)
  })

  await t.test('a sequence going backwards is refused and the last good bundle stays', async (t) => {
    // The endpoint restarts on an old backup: the first ca again, and a sequence file that restarts it at 1.
    await endpoints.a.stop()
    await writeFile(join(a.caDir, CA_FILES.cert), a.ca.certPem)
    await writeFile(join(a.caDir, CA_FILES.key), a.ca.keyPem, { mode: 0o600 })
    await writeFile(join(a.caDir, CA_FILES.bundleSequence), '{"sequence":0,"fingerprints":[]}\n')
    endpoints.a = await spawnBundleEndpoint(['-c', a.config, '--listen', `127.0.0.1:${aPort}`, '--cert', web.cert, '--key', web.key, '--refresh-hint', '1s'])
    t.match(endpoints.a.output(), /spiffe_sequence 1,/)
    await waitFor(async () => (await federation(serve)).get(a.trustDomain)?.lastError?.includes('ERR_SPIFFE_CREDENTIALS_BUNDLE_SEQUENCE_BACKWARDS') === true, 'the rollback refused')
    t.match((await federation(serve)).get(a.trustDomain), { state: 'stale', sequence: 2 })
    t.equal((await curl(`${serve.proxy}/a-new/x`)).code, 200, 'the last good bundle stays in force')
    // 502 when a handshake is tried, 503 while the endpoint is still ejected for the earlier refusal.
    const old = await curl(`${serve.proxy}/a-old/x`)
    t.ok(old.code === 502 || old.code === 503, `the rolled-back ca is not trusted: ${old.code} ${old.body}`)
    const metrics = (await curl(`${serve.admin}/metrics`)).body
    t.match(metrics, new RegExp(`spiffe_lb_federated_bundle_age_seconds\\{trust_domain="${a.trustDomain.replace(/\./g, '\\.')}",state="stale",last_error="ERR_SPIFFE_CREDENTIALS_BUNDLE_SEQUENCE_BACKWARDS"\\} \\d`))
  })

  t.equal(await serve.stop(), 0)
})

t.test('bundle-endpoint refuses an unknown pool and a bad refresh hint with exit 2', async (t) => {
  const demo = await startDemoBackends('spiffe-lb-fed-usage-')
  t.teardown(demo.stop)
  const a = await createPartner(demo.dir, 'a', '111111111111')
  const svid = await writeSvid(a.ca, join(demo.dir, 'ep'), `spiffe://${a.trustDomain}/bundle-endpoint`)
  for (const [args, code] of [[['--pool', 'nope'], 'ERR_SPIFFE_CLI_POOL'], [['--refresh-hint', '1500ms'], 'ERR_SPIFFE_CLI_REFRESH_HINT']] as const) {
    const err = await run(process.execPath, [main, 'bundle-endpoint', '-c', a.config, '--cert', svid.cert, '--key', svid.key, ...args]).then(() => undefined, (e: { code: number, stderr: string }) => e)
    t.equal(err?.code, 2, args.join(' '))
    t.match(err?.stderr, new RegExp(`^spiffe-lb: ${code}: `))
    t.notMatch(err?.stderr, /\n\s+at /, 'no stack trace')
  }
})
