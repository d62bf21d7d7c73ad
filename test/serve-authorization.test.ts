// backendServices[].authorization.allowedPeers through `serve`: two backends of one trust domain,
// one admitted; a reload swaps the list while a pooled connection to the first is open, and the
// very next requests reach only the other. `probe -c --service` and `describe` agree.
import t from 'tap'
import { execFile, spawn } from 'node:child_process'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { startDemoBackends } from './demo-backends.ts'
import { demoConfigYaml } from '../src/testbed/up-world.ts'

const run = promisify(execFile)
const main = new URL('../src/cli/main.ts', import.meta.url).pathname

async function get (url: string): Promise<{ status: number, body: string }> {
  const res = await fetch(url)
  return { status: res.status, body: await res.text() }
}

async function waitFor (what: () => boolean, label: string, output: () => string, ms = 30_000): Promise<void> {
  const end = Date.now() + ms
  while (!what()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${label}; output:\n${output()}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

async function cli (...args: string[]): Promise<{ code: number, stdout: string, stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [main, ...args])
    return { code: 0, stdout, stderr }
  } catch (err) {
    const e = err as { code: number, stdout: string, stderr: string }
    return { code: e.code, stdout: e.stdout, stderr: e.stderr }
  }
}

t.test('allowedPeers admits one backend; a reload with a pooled connection open admits the other', async (t) => {
  const { dir, world, ports, stop } = await startDemoBackends('spiffe-lb-authz-')
  t.teardown(stop)
  const idOf = (name: string): string => world.backends.find((b) => b.name === name)?.spiffeId ?? ''
  const [one, two] = [idOf('backend-1'), idOf('backend-2')]
  // No active health checks: what a request meets is decided by the connector alone.
  const base = demoConfigYaml(world, ports, { proxyPort: 0, adminPort: 0 }).replace(/^ {4}healthCheck: .*\n/gm, '')
  const withLists = (web: string, partner: string): string => base
    .replace(/(  - name: web\n)/, `$1    authorization: { allowedPeers: ["${web}"] }\n`)
    .replace(/(  - name: partner\n)/, `$1    authorization: { allowedPeers: ["${partner}"] }\n`)
  const config = join(dir, 'config.yaml')
  await writeFile(config, withLists(one, 'spiffe://partner.example/ns/other/*'))

  const described = await cli('describe', '-c', config, 'backend-service', 'web')
  t.equal(described.code, 0, described.stderr)
  t.match(described.stdout, new RegExp(`spiffeLbExtensions:\\n\\s+authorization:\\n\\s+allowedPeers:\\n\\s+- ${one.replaceAll('/', '\\/')}`), 'describe shows the extension apart')

  const child = spawn(process.execPath, [main, 'serve', '-c', config, '--log-level', 'warn', '--drain-timeout', '2s'], { stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  child.stdout.on('data', (d: Buffer) => { output += d.toString() })
  child.stderr.on('data', (d: Buffer) => { output += d.toString() })
  t.teardown(() => { child.kill('SIGKILL') })
  await waitFor(() => /proxy listening on (http:[^\s"]+)/.test(output) && /admin listening on (http:[^\s"]+)/.test(output), 'serve to listen', () => output)
  const proxy = /proxy listening on (http:[^\s"]+)/.exec(output)?.[1] ?? ''
  const admin = /admin listening on (http:[^\s"]+)/.exec(output)?.[1] ?? ''

  const selves = async (n: number): Promise<string[]> => {
    const out: string[] = []
    for (let i = 0; i < n; i++) {
      const r = await get(`${proxy}/hello`)
      out.push(r.status === 200 ? (JSON.parse(r.body) as { self: string }).self : `${r.status} ${r.body}`)
    }
    return out
  }
  t.same(await selves(4), [one, one, one, one], 'only backend-1 answers (backend-2 is refused and the request retried)')
  const refused = await get(`${proxy}/partner/x`)
  t.equal(refused.status, 502)
  t.match(refused.body, /^backend 127\.0\.0\.1:\d+ rejected: backend .* with spiffe id "spiffe:\/\/partner\.example\/ns\/web\/sa\/partner-backend" is not in authorization\.allowedPeers .*\(ERR_SPIFFE_TLS_PEER_NOT_ALLOWED\)/)
  const metrics = await get(`${admin}/metrics`)
  t.match(metrics.body, /spiffe_lb_backend_handshakes_total\{[^}]*result="ERR_SPIFFE_TLS_PEER_NOT_ALLOWED"[^}]*\} [1-9]/, 'its own metric reason')

  // /debug/peers: the last verdict per endpoint, its reasons, the peer's ID and chain, when seen.
  const peers = JSON.parse((await get(`${admin}/debug/peers`)).body) as { peers: Array<{ endpoint: string, verdict: string, reasons: string[], message?: string, spiffeId?: string, chain: Array<{ spiffeId?: string, issuer: string }>, seenAt: string }> }
  const at = (name: string) => peers.peers.find((p) => p.endpoint === `127.0.0.1:${ports.get(name) ?? 0}`)
  t.match(at('backend-1'), { verdict: 'accept', reasons: [], spiffeId: one, chain: [{ spiffeId: one }] })
  t.match(at('backend-2'), { verdict: 'reject', reasons: ['ERR_SPIFFE_TLS_PEER_NOT_ALLOWED'], spiffeId: two, message: /not in authorization\.allowedPeers/ })
  t.match(at('partner'), { verdict: 'reject', reasons: ['ERR_SPIFFE_TLS_PEER_NOT_ALLOWED'], chain: [{ issuer: /./ }] })
  t.ok(Number.isFinite(Date.parse(at('backend-1')?.seenAt ?? '')), 'when it was seen')

  // Probe with the service's identity, trust and authorization agrees.
  const [probeOne, probeTwo] = await Promise.all([
    cli('probe', '-c', config, '--service', 'web', `127.0.0.1:${ports.get('backend-1') ?? 0}`),
    cli('probe', '-c', config, '--service', 'web', `127.0.0.1:${ports.get('backend-2') ?? 0}`)
  ])
  t.equal(probeOne.code, 0, probeOne.stdout + probeOne.stderr)
  t.equal(probeTwo.code, 1, probeTwo.stdout + probeTwo.stderr)
  t.match(probeTwo.stdout, /reject: .*is not in authorization\.allowedPeers.*\(ERR_SPIFFE_TLS_PEER_NOT_ALLOWED\)/)

  // The pooled keep-alive connection to backend-1 is still open; swap the lists.
  await writeFile(config, withLists(two, 'spiffe://partner.example/**'))
  child.kill('SIGHUP')
  await waitFor(() => output.includes('config reloaded'), 'the reload to apply', () => output)
  t.same(await selves(4), [two, two, two, two], 'the next requests reach only backend-2; nothing pooled under the old list is reused')
  const admitted = await get(`${proxy}/partner/y`)
  t.equal(admitted.status, 200, admitted.body)
})
