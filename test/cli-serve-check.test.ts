import t from 'tap'
import { execFile } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createDemoWorld, demoConfigYaml } from '../src/testbed/up-world.ts'

const main = new URL('../src/cli/main.ts', import.meta.url).pathname

function cli (args: string[]): Promise<{ code: number | null, stdout: string, stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [main, ...args], { timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : (err as { code?: number }).code ?? null, stdout, stderr })
    })
  })
}

t.test('serve --check refuses what serve refuses: backend services without an identity', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'spiffe-lb-check-'))
  t.teardown(async () => { await rm(dir, { recursive: true, force: true }) })
  const world = await createDemoWorld(dir, Date.now())
  const text = demoConfigYaml(world, new Map(world.backends.map((b, i) => [b.name, 19443 + i])), { proxyPort: 0, adminPort: 0 })
  const config = join(dir, 'config.yaml')
  // Two of the three services lose their identity: the check must name both.
  let n = 0
  await writeFile(config, text.replace(/ {4}tlsSettings: \{ identity: "[^"]+" \}\n/g, (line) => (n++ < 2 ? '' : line)))
  for (const args of [['serve', '--check', '-c', config], ['serve', '-c', config]]) {
    const res = await cli(args)
    t.equal(res.code, 2, args.join(' '))
    t.match(res.stderr, /^backendServices\[0\]\.tlsSettings\.identity: backend service "web" has no tlsSettings\.identity.*\(ERR_SPIFFE_SERVE_NO_IDENTITY\)$/m)
    t.match(res.stderr, /^backendServices\[1\]\.tlsSettings\.identity: .*\(ERR_SPIFFE_SERVE_NO_IDENTITY\)$/m)
    t.match(res.stderr, /config invalid: .*: 2 errors/)
    t.notMatch(res.stdout, /config ok/)
  }
})

t.test('serve --check: a near-miss key gets a suggestion; a ca pool keyed by another region and a relative health check path are refused', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'spiffe-lb-check-'))
  t.teardown(async () => { await rm(dir, { recursive: true, force: true }) })
  const world = await createDemoWorld(dir, Date.now())
  const text = demoConfigYaml(world, new Map(world.backends.map((b, i) => [b.name, 19443 + i])), { proxyPort: 0, adminPort: 0 })
  const typo = join(dir, 'typo.yaml')
  await writeFile(typo, text.replace('    timeoutSec: 30\n', '    timeoutsec: 30\n'))
  const unknown = await cli(['serve', '--check', '-c', typo])
  t.equal(unknown.code, 2)
  t.match(unknown.stderr, /^backendServices\[0\]\.timeoutsec: unknown key "timeoutsec": did you mean "timeoutSec"\? \(ERR_SPIFFE_CONFIG_UNKNOWN_KEY\)$/m)
  const semantic = join(dir, 'semantic.yaml')
  await writeFile(semantic, text
    .replace(/caPools: \{ us-central1: (\S+) \}/, 'caPools: { us-east1: $1 }')
    .replace('healthCheck: { requestPath: /healthz,', 'healthCheck: { requestPath: healthz,'))
  const refused = await cli(['serve', '--check', '-c', semantic])
  t.equal(refused.code, 2)
  t.match(refused.stderr, /^workloadIdentityPools\[0\]\.inlineCertificateIssuanceConfig\.caPools\.us-east1: ca pool "projects\/\d+\/locations\/us-central1\/caPools\/\S+" is in location "us-central1", not in the region "us-east1" its key names \(ERR_SPIFFE_CONFIG_CA_POOL_REGION\)$/m)
  t.match(refused.stderr, /^backendServices\[0\]\.healthCheck\.requestPath: request path must start with "\/", got "healthz" \(ERR_SPIFFE_CONFIG_HEALTH_CHECK_PATH\)$/m)
})

t.test('serve --check reads the credential source once, as serve does, and fails with the code serve would', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'spiffe-lb-check-creds-'))
  t.teardown(async () => { await rm(dir, { recursive: true, force: true }) })
  const ok = async (...args: string[]): Promise<void> => {
    const r = await cli(args)
    if (r.code !== 0) throw new Error(`${args.join(' ')}: ${r.stderr}`)
  }
  await ok('ca', 'create-root', '--out', join(dir, 'ca'))
  await ok('svid', 'issue', '--ca', join(dir, 'ca'), '--id', 'spiffe://example.org/ns/lb/sa/frontend', '--out', join(dir, 'creds'))
  const config = async (name: string, credentials: string, identity = 'spiffe://example.org/ns/lb/sa/frontend'): Promise<string> => {
    const file = join(dir, `${name}.yaml`)
    await writeFile(file, `backendServices:
  - name: web
    tlsSettings: { identity: "${identity}" }
    backends: [{ endpoints: ["127.0.0.1:19443"] }]
frontend: { listen: "127.0.0.1:0" }
admin: { listen: "127.0.0.1:0" }
credentials: ${credentials}
`)
    return file
  }
  const good = await cli(['serve', '--check', '-c', await config('good', '{ source: directory, directory: creds }')])
  t.equal(good.code, 0, good.stderr)
  t.match(good.stdout, /^credentials ok: spiffe:\/\/example\.org\/ns\/lb\/sa\/frontend from directory$/m)

  const missing = await cli(['serve', '--check', '-c', await config('missing', '{ source: directory, directory: no-such-dir }')])
  t.equal(missing.code, 2)
  t.match(missing.stderr, /^credentials: serve would not put credentials from source "directory" in force for spiffe:\/\/example\.org\/ns\/lb\/sa\/frontend: credential directory ".*no-such-dir" does not exist .*\(ERR_SPIFFE_CREDENTIALS_DIRECTORY_MISSING\)$/m)
  t.notMatch(missing.stdout, /config ok/)

  const other = await cli(['serve', '--check', '-c', await config('other', '{ source: directory, directory: creds }', 'spiffe://example.org/ns/lb/sa/other')])
  t.equal(other.code, 2)
  t.match(other.stderr, /is not the configured identity "spiffe:\/\/example\.org\/ns\/lb\/sa\/other" \(ERR_SPIFFE_CREDENTIALS_WRONG_IDENTITY\)$/m)

  // A configured CRL serve cannot read: serve refuses to start, and the check says so with its code.
  const crl = await config('crl', '{ source: directory, directory: creds }\nrevocation: { trustDomains: { example.org: { crlFiles: [no-such-crl.pem] } } }')
  for (const args of [['serve', '--check', '-c', crl], ['serve', '-c', crl]]) {
    const r = await cli(args)
    t.equal(r.code, 2, args.join(' '))
    t.match(r.stderr, /cannot read crl ".*no-such-crl\.pem": ENOENT.*ERR_SPIFFE_CREDENTIALS_CRL_UNREADABLE|ERR_SPIFFE_CREDENTIALS_CRL_UNREADABLE.*no-such-crl\.pem/, args.join(' '))
  }

  // No endpoint and no SPIFFE_ENDPOINT_SOCKET: serve cannot start the source, and the check says so with serve's code.
  const noEndpoint = await config('no-endpoint', '{ source: workload-api }')
  const env = { ...process.env, SPIFFE_ENDPOINT_SOCKET: '' }
  for (const args of [['serve', '--check', '-c', noEndpoint], ['serve', '-c', noEndpoint]]) {
    const r = await new Promise<{ code: number | null, stderr: string }>((resolve) => {
      execFile(process.execPath, [main, ...args], { timeout: 60_000, env }, (err, _stdout, stderr) => { resolve({ code: err === null ? 0 : (err as { code?: number }).code ?? null, stderr }) })
    })
    t.equal(r.code, 2, args.join(' '))
    t.match(r.stderr, /ERR_SPIFFE_CREDENTIALS_WORKLOAD_API_NO_ENDPOINT/, args.join(' '))
  }
})
