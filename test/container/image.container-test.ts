import t, { type Test } from 'tap'
import { execFile } from 'node:child_process'
import { chown, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { fileURLToPath } from 'node:url'
import { runAgentOnce } from '../../src/testbed/agent-runner.ts'
import { startBackendCommand } from '../../src/testbed/backend-starter.ts'
import { startMetadataServerCommand } from '../../src/testbed/metadata-server-runner.ts'
import { createDemoWorld, demoConfigYaml, DEMO } from '../../src/testbed/up-world.ts'

// The top-level Dockerfile, built with podman on the offline stand-in for the official Node 24
// slim image (test/container/base-image.sh, tag in SPIFFE_LB_BASE_IMAGE) and run as users run
// it: read-only root filesystem, host network, `up` for the demo and `serve` with a mounted
// config and GCE credential directory. Run by test/container/run.sh (npm run test:container).
const REPO = fileURLToPath(new URL('../..', import.meta.url))
const BASE = process.env.SPIFFE_LB_BASE_IMAGE ?? ''
const IMAGE = process.env.SPIFFE_LB_IMAGE ?? 'localhost/spiffe-lb:test'
const USER_ID = '65532'
const FRONTEND = `spiffe://${DEMO.trustDomain}/ns/lb/sa/frontend`
const quiet = new Writable({ write (_chunk, _enc, done) { done() } })

interface Run { code: number, stdout: string, stderr: string }
async function podman (...args: string[]): Promise<Run> {
  return await new Promise((resolve) => {
    execFile('podman', args, { cwd: REPO, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : -1, stdout, stderr })
    })
  })
}

async function freePort (): Promise<number> {
  return await new Promise((resolve, reject) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const address = s.address()
      s.close(() => { typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port')) })
    })
  })
}

/** Polls `url` until it answers (any status) or `ms` pass; returns the last answer. */
async function fetchWhenUp (url: string, container: string, ms = 90_000): Promise<{ status: number, body: string }> {
  const end = Date.now() + ms
  for (;;) {
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(10_000) })
      return { status: res.status, body: await res.text() }
    } catch (err) {
      const state = await podman('inspect', '--format', '{{.State.Running}}', container)
      if (Date.now() > end || state.stdout.trim() !== 'true') {
        const logs = await podman('logs', container)
        throw new Error(`${url} never answered (${String(err)}); container logs:\n${logs.stdout}${logs.stderr}`)
      }
      await new Promise((resolve) => setTimeout(resolve, 250))
    }
  }
}

/** `curl -s` as a user types it; returns the HTTP status and body. */
async function curl (url: string): Promise<{ status: number, body: string }> {
  return await new Promise((resolve, reject) => {
    execFile('curl', ['-s', '--max-time', '20', '-w', '\n%{http_code}', url], (err, stdout) => {
      if (err !== null) { reject(err); return }
      const cut = stdout.lastIndexOf('\n')
      resolve({ status: Number(stdout.slice(cut + 1)), body: stdout.slice(0, cut) })
    })
  })
}

/** Stops a container with SIGTERM and a grace period; returns its exit code (137 if it had to be killed). */
async function stop (t: Test, container: string): Promise<number> {
  const stopped = await podman('stop', '--time', '30', container)
  t.equal(stopped.code, 0, 'podman stop', { stderr: stopped.stderr })
  return Number((await podman('inspect', '--format', '{{.State.ExitCode}}', container)).stdout.trim())
}

t.before(async () => {
  if (BASE === '') throw new Error('SPIFFE_LB_BASE_IMAGE is not set: run test/container/run.sh')
  const built = await podman('build', '--format', 'docker', '--network', 'host', '--build-arg', `NODE_IMAGE=${BASE}`, '-t', IMAGE, '.')
  if (built.code !== 0) throw new Error(`podman build failed:\n${built.stdout.slice(-4000)}${built.stderr.slice(-4000)}`)
})

t.test('the image: entrypoint, version, user, size', async (t) => {
  const version = await podman('run', '--rm', '--read-only', IMAGE, '--version')
  t.equal(version.code, 0, 'podman run --version', { stderr: version.stderr })
  t.match(version.stdout, /^spiffe-lb \d+\.\d+\.\d+\nnode 24\.\d+\.\d+\nopenssl \d/)
  const id = await podman('run', '--rm', '--entrypoint', 'id', IMAGE, '-u')
  t.equal(id.stdout.trim(), USER_ID, 'runs as the numeric non-root user')
  const config = JSON.parse((await podman('image', 'inspect', IMAGE)).stdout) as Array<{ Size: number, Config: Record<string, unknown> }>
  const c = config[0]?.Config ?? {}
  t.equal(c.User, `${USER_ID}:${USER_ID}`)
  t.same(c.Entrypoint, ['node', '/opt/spiffe-lb/dist/cli/main.js'])
  t.same(c.Cmd, ['serve', '-c', '/etc/spiffe-lb/config.yaml'])
  t.same(Object.keys(c.ExposedPorts as object).sort(), ['8080/tcp', '9901/tcp'])
  const healthcheck = JSON.parse((await podman('image', 'inspect', '--format', '{{json .HealthCheck}}', IMAGE)).stdout) as unknown
  t.match(healthcheck, { Test: ['CMD', 'node', '-e', /SPIFFE_LB_HEALTHCHECK_URL/] }, 'a HEALTHCHECK without curl')
  const size = config[0]?.Size ?? 0
  const base = (JSON.parse((await podman('image', 'inspect', BASE)).stdout) as Array<{ Size: number }>)[0]?.Size ?? 0
  t.comment(`image size ${(size / 1e6).toFixed(0)} MB (base ${(base / 1e6).toFixed(0)} MB, spiffe-lb's layers ${((size - base) / 1e6).toFixed(1)} MB)`)
  // @types/node is not checked: protobufjs (under @grpc/proto-loader) depends on it at run time.
  const dev = await podman('run', '--rm', '--entrypoint', 'node', IMAGE, '-e',
    "const fs = require('node:fs'); console.log(['typescript', 'tap', 'node'].filter((d) => fs.existsSync('/opt/spiffe-lb/node_modules/' + d)).join(',') + '|' + fs.existsSync('/opt/spiffe-lb/src'))")
  t.equal(dev.stdout.trim(), '|false', 'no dev dependencies and no sources in the runtime image')
})

t.test('up inside the container serves the demo on the host network; stop drains and exits 0', async (t) => {
  const [port, adminPort] = [await freePort(), await freePort()]
  const name = `spiffe-lb-test-up-${process.pid}`
  t.teardown(async () => { await podman('rm', '--force', '--volumes', name) })
  const run = await podman('run', '-d', '--name', name, '--read-only', '--health-interval', 'disable',
    '--volume', '/var/lib/spiffe-lb',
    '-e', `SPIFFE_LB_HEALTHCHECK_URL=http://127.0.0.1:${adminPort}/readyz`,
    IMAGE, 'up', '--host', '0.0.0.0', '--port', String(port), '--admin-port', String(adminPort))
  t.equal(run.code, 0, 'podman run -d', { stderr: run.stderr })
  await fetchWhenUp(`http://127.0.0.1:${adminPort}/healthz`, name)
  const hello = await curl(`http://127.0.0.1:${port}/hello`)
  t.equal(hello.status, 200, 'curl through the demo proxy', { body: hello.body })
  t.match(JSON.parse(hello.body), { peer: FRONTEND })
  t.equal((await curl(`http://127.0.0.1:${port}/untrusted/hello`)).status, 502, 'an untrusted backend is still refused')
  const dashboard = await curl(`http://127.0.0.1:${adminPort}/dashboard/app.js`)
  t.equal(dashboard.status, 200, 'the admin dashboard\'s files are in the image')
  // The image's HEALTHCHECK (node's fetch, no curl) against the demo's admin port.
  const health = await podman('healthcheck', 'run', name)
  t.equal(health.code, 0, 'podman healthcheck run: the image HEALTHCHECK passes', { output: health.stdout + health.stderr })
  t.equal(await stop(t, name), 0, 'SIGTERM stopped it within the grace period with exit 0')
})

t.test('serve with a mounted config and GCE credential directory carries traffic', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'spiffe-lb-image-'))
  t.teardown(async () => { await rm(dir, { recursive: true, force: true }) })
  const world = await createDemoWorld(join(dir, 'world'), Date.now())
  const backends = await Promise.all(world.backends.filter((b) => b.service === 'web').map(async (b) =>
    await startBackendCommand({ listen: '127.0.0.1:0', cert: b.certFile, key: b.keyFile, bundle: b.bundles, name: b.name }, { stdout: quiet, stderr: quiet })))
  t.teardown(async () => { await Promise.all(backends.map(async (b) => { await b.stop() })) })

  // The GCE file layout, as the guest agent delivers it: metadata server + `agent --once`.
  const issuerConfig = join(dir, 'issuer.yaml')
  await writeFile(issuerConfig, demoConfigYaml(world, new Map(world.backends.map((b) => [b.name, 9443])), { proxyPort: 8080, adminPort: 9901 }))
  const out = { stdout: quiet, stderr: quiet }
  const metadata = await startMetadataServerCommand({ config: issuerConfig, listen: '127.0.0.1:0', state: world.stateDir }, out)
  if (typeof metadata === 'number') throw new Error(`metadata-server exited ${metadata}`)
  t.teardown(async () => { await metadata.close() })
  // The server answers 412 (not configured) until it has issued its first SVID.
  while (metadata.serial < 1) await new Promise((resolve) => setTimeout(resolve, 20))
  const credentials = join(dir, 'credentials')
  t.equal(await runAgentOnce({ metadata: metadata.url, out: credentials, interval: '300s' }, out), 0)
  // The container's user must be able to read the key, as a pod's runAsUser/fsGroup must.
  for (const f of ['', 'certificates.pem', 'private_key.pem', 'ca_certificates.pem', 'trust_bundles.json']) {
    await chown(join(credentials, f), Number(USER_ID), Number(USER_ID)).catch(() => {})
  }

  const [port, adminPort] = [await freePort(), await freePort()]
  const config = join(dir, 'config.yaml')
  await writeFile(config, `project: { id: ${DEMO.projectId}, number: "${DEMO.projectNumber}" }
workloadIdentityPools:
  - id: ${DEMO.poolId}
    mode: TRUST_DOMAIN
    namespaces:
      - id: lb
        managedIdentities:
          - id: frontend
            attestationRules: [{ googleCloudResource: "//compute.googleapis.com/projects/${DEMO.projectNumber}/type/BackendService/*" }]
backendServices:
  - name: web
    tlsSettings: { identity: "//${DEMO.trustDomain}/ns/lb/sa/frontend" }
    backends: [{ endpoints: [${backends.map((b) => `"127.0.0.1:${b.backend.port}"`).join(', ')}] }]
    healthCheck: { requestPath: /healthz }
frontend: { listen: "127.0.0.1:${port}" }
admin: { listen: "127.0.0.1:${adminPort}" }
credentials: { source: directory, directory: /var/run/secrets/workload-spiffe-credentials }
`)
  const name = `spiffe-lb-test-serve-${process.pid}`
  t.teardown(async () => { await podman('rm', '--force', '--volumes', name) })
  const run = await podman('run', '-d', '--name', name, '--read-only', '--health-interval', 'disable',
    '-v', `${config}:/etc/spiffe-lb/config.yaml:ro,Z`,
    '-v', `${credentials}:/var/run/secrets/workload-spiffe-credentials:ro,Z`,
    IMAGE)
  t.equal(run.code, 0, 'podman run -d', { stderr: run.stderr })
  const res = await fetchWhenUp(`http://127.0.0.1:${port}/from-the-host`, name)
  t.equal(res.status, 200, 'a request through serve', { body: res.body })
  t.match(JSON.parse(res.body), { peer: FRONTEND, path: '/from-the-host' })
  const status = JSON.parse((await fetchWhenUp(`http://127.0.0.1:${adminPort}/status`, name)).body) as unknown
  t.match(status, { identity: { spiffeId: FRONTEND } }, 'the SVID came from the mounted directory')
  t.equal(await stop(t, name), 0, 'SIGTERM stopped it within the grace period with exit 0')
  const logs = await podman('logs', name)
  t.match(logs.stdout, /spiffe-lb stopped/)
})
