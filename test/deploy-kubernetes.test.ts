import t, { type Test } from 'tap'
import { execFile, execFileSync } from 'node:child_process'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Service } from 'kubernetes-models/v1/Service'
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap'
import { Deployment } from 'kubernetes-models/apps/v1/Deployment'
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget'
import { parseAllDocuments } from 'yaml'
import { parseDuration } from '../src/config/values.ts'
import { DRAIN_TIMEOUT_MS } from '../src/defaults.ts'

// deploy/kubernetes/: every overlay rendered with `kubectl kustomize` (offline), each object
// checked against the Kubernetes schemas (kubernetes-models), the rules the deployment must keep
// (non-root, read-only root, probes on the admin port, grace above the drain timeout), and the
// rendered ConfigMap's config checked by `serve --check`. Needs kubectl with kustomize 4+:
// skipped where it is missing, except in CI, where that fails.
const REPO = fileURLToPath(new URL('..', import.meta.url))
const OVERLAYS = ['base', 'overlays/gce-files', 'overlays/workload-api', 'overlays/demo'] as const
const MODELS: Record<string, new (data: never) => { validate: () => void }> = {
  'apps/v1/Deployment': Deployment,
  'v1/Service': Service,
  'v1/ConfigMap': ConfigMap,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget
}

function kustomizeAvailable (): string | undefined {
  try {
    execFileSync('kubectl', ['kustomize', '--help'], { stdio: 'ignore' })
    return undefined
  } catch {
    return 'kubectl (with kustomize 4+) is not installed'
  }
}
const missing = kustomizeAvailable()
if (missing !== undefined && process.env.CI === 'true') t.fail(`${missing}: the manifest test is required in CI`)

interface Run { code: number, stdout: string, stderr: string }
async function run (cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<Run> {
  return await new Promise((resolve) => {
    execFile(cmd, args, { cwd: REPO, env }, (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : -1, stdout, stderr })
    })
  })
}

type Obj = { apiVersion: string, kind: string, metadata: { name: string }, [k: string]: unknown }
interface Container { name: string, args?: string[], env?: Array<{ name: string, value?: string }>, volumeMounts?: Array<{ name: string, mountPath: string, readOnly?: boolean }>, [k: string]: unknown }
interface PodSpec { containers: Container[], volumes?: Array<Record<string, unknown> & { name: string }>, terminationGracePeriodSeconds?: number, [k: string]: unknown }

async function render (overlay: string): Promise<Obj[]> {
  const r = await run('kubectl', ['kustomize', join('deploy/kubernetes', overlay)])
  if (r.code !== 0) throw new Error(`kubectl kustomize ${overlay} failed: ${r.stderr}`)
  return parseAllDocuments(r.stdout).map((d) => d.toJS() as Obj)
}

for (const overlay of OVERLAYS) {
  t.test(`${overlay}: renders, matches the Kubernetes schemas, keeps the deployment rules`, { skip: missing ?? false }, async (t) => {
    const objects = await render(overlay)
    t.same(objects.map((o) => `${o.apiVersion}/${o.kind}`).sort(),
      ['apps/v1/Deployment', 'policy/v1/PodDisruptionBudget', 'v1/ConfigMap', 'v1/Service'])
    for (const o of objects) {
      const Model = MODELS[`${o.apiVersion}/${o.kind}`]
      t.doesNotThrow(() => { new (Model as NonNullable<typeof Model>)(o as never).validate() }, `${o.kind} ${o.metadata.name} is schema-valid`)
    }
    const deployment = objects.find((o) => o.kind === 'Deployment') as Obj & { spec: { template: { metadata: { annotations: Record<string, string> }, spec: PodSpec } } }
    const pod = deployment.spec.template.spec
    const c = pod.containers[0] as Container
    t.match(pod, { securityContext: { runAsNonRoot: true, runAsUser: 65532 } })
    // kustomize's images: entry names a registry: a bare `spiffe-lb` is pullable by no cluster.
    t.match(c.image, /^[a-z0-9.-]+\.[a-z]+(:\d+)?\/[a-z0-9./-]*spiffe-lb:\d+\.\d+\.\d+$/, `the image comes from a registry: ${String(c.image)}`)
    t.match(c, {
      securityContext: { readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
      readinessProbe: { httpGet: { path: '/readyz', port: 'admin' } },
      livenessProbe: { httpGet: { path: '/healthz', port: 'admin' } },
      ports: [{ name: 'http', containerPort: 8080 }, { name: 'admin', containerPort: 9901 }],
      resources: { requests: { cpu: String, memory: String }, limits: { memory: String } }
    })
    t.match(deployment.spec.template.metadata.annotations, { 'prometheus.io/scrape': 'true', 'prometheus.io/port': '9901' })
    const args = c.args ?? []
    const drain = args.includes('--drain-timeout') ? parseDuration(args[args.indexOf('--drain-timeout') + 1] ?? '') : DRAIN_TIMEOUT_MS
    t.ok((pod.terminationGracePeriodSeconds ?? 30) * 1000 > drain + 5000, 'the grace period covers the preStop pause and the drain')
    const configMap = objects.find((o) => o.kind === 'ConfigMap') as Obj & { data: Record<string, string> }
    const mount = c.volumeMounts?.find((m) => m.mountPath === '/etc/spiffe-lb')
    t.match(pod.volumes?.find((v) => v.name === mount?.name), { configMap: { name: configMap.metadata.name } }, 'the pod mounts the generated ConfigMap')

    if (overlay === 'overlays/demo') {
      t.same(args.slice(0, 3), ['up', '--host', '0.0.0.0'])
    } else {
      t.same(args.slice(0, 3), ['serve', '-c', '/etc/spiffe-lb/config.yaml'])
      await checkConfig(t, overlay, configMap.data['config.yaml'] ?? '', c.env?.find((e) => e.name === 'SPIFFE_ENDPOINT_SOCKET')?.value)
    }
    if (overlay === 'overlays/gce-files') {
      const dir = '/var/run/secrets/workload-spiffe-credentials'
      t.match(c.volumeMounts?.find((m) => m.mountPath === dir), { readOnly: true })
      t.ok(pod.volumes?.some((v) => (v.hostPath as { path?: string } | undefined)?.path === dir))
      t.match(configMap.data['config.yaml'], /source: directory/)
    }
    if (overlay === 'overlays/workload-api') {
      const socket = c.env?.find((e) => e.name === 'SPIFFE_ENDPOINT_SOCKET')?.value ?? ''
      const volume = pod.volumes?.find((v) => (v.csi as { driver?: string } | undefined)?.driver === 'csi.spiffe.io')
      t.ok(volume, 'the SPIFFE CSI driver volume')
      const at = c.volumeMounts?.find((m) => m.name === volume?.name)
      t.ok(at !== undefined && socket.startsWith(`unix://${at.mountPath}/`), `SPIFFE_ENDPOINT_SOCKET ${socket} is inside the mounted socket directory`)
      t.match(configMap.data['config.yaml'], /source: workload-api/)
      t.match(configMap.data['config.yaml'], /identity: spiffe:\/\/example\.org\//, 'a SPIRE-style identity, no pools')
    }
  })
}

/**
 * `serve --check` on the rendered config: the ConfigMap must be a config `serve` accepts. The
 * check reads the credentials as the pod would: the node's credential directory is stood in for
 * by one holding an SVID of the config's identity; the Workload API socket of the pod's
 * environment is not there, which the check says without failing (the agent may come later).
 */
async function checkConfig (t: Test, overlay: string, text: string, socket: string | undefined): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'spiffe-lb-k8s-'))
  t.teardown(async () => { await rm(dir, { recursive: true, force: true }) })
  const file = join(dir, 'config.yaml')
  const node = '/var/run/secrets/workload-spiffe-credentials'
  const identity = /identity: \/\/(\S+)/.exec(text)?.[1]
  if (text.includes(node) && identity !== undefined) {
    const cli = async (...args: string[]): Promise<void> => {
      const r = await run(process.execPath, ['src/cli/main.ts', ...args])
      if (r.code !== 0) throw new Error(`${args.join(' ')}: ${r.stderr}`)
    }
    await cli('ca', 'create-root', '--out', join(dir, 'ca'))
    await cli('svid', 'issue', '--ca', join(dir, 'ca'), '--id', `spiffe://${identity}`, '--out', join(dir, 'creds'))
  }
  await writeFile(file, text.replaceAll(node, join(dir, 'creds')))
  const env = { ...process.env, SPIFFE_ENDPOINT_SOCKET: socket ?? '' }
  const r = await run(process.execPath, ['src/cli/main.ts', 'serve', '--check', '-c', file], env)
  t.equal(r.code, 0, `serve --check of the ${overlay} ConfigMap`, { stderr: r.stderr })
  t.match(r.stdout, /^config ok: /)
  t.match(r.stdout, socket === undefined ? /^credentials ok: spiffe:\/\//m : /^credentials not checked: .*workload api/m, 'the credentials were read as serve reads them')
}

t.test('the README says to push the image and where the kustomize images: entry is', async (t) => {
  const readme = await readFile(join(REPO, 'README.md'), 'utf8')
  t.match(readme, /push it to a registry your\s+nodes can reach, then name it in `deploy\/kubernetes\/base\/kustomization\.yaml`/)
  t.match(await readFile(join(REPO, 'deploy/kubernetes/base/kustomization.yaml'), 'utf8'), /images:\n {2}- name: spiffe-lb\n {4}newName: \S+\n {4}newTag: /)
  t.notMatch(readme, /once that source is built in/, 'the Workload API source is built in')
})
