// Test support: the demo world (CA, pool, trusted / partner / untrusted backends) with `serve`
// taking its credentials from a Workload API at `socket` instead of the local issuer.
import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { promisify } from 'node:util'
import { startDemoBackends } from './demo-backends.ts'
import { demoConfigYaml, DEMO, type DemoWorld } from '../src/testbed/up-world.ts'

const run = promisify(execFile)
const main = new URL('../src/cli/main.ts', import.meta.url).pathname
export const quiet = new Writable({ write (_c, _e, done) { done() } })
export const IDENTITY = `spiffe://${DEMO.trustDomain}/ns/lb/sa/frontend`

/** Returns the status code and body of a GET with curl (a real HTTP client, not ours). */
export async function curl (url: string): Promise<{ code: number, body: string }> {
  const { stdout } = await run('curl', ['-s', '-w', '\n%{http_code}', url])
  const at = stdout.lastIndexOf('\n')
  return { code: Number(stdout.slice(at + 1)), body: stdout.slice(0, at) }
}

/** Polls `what` every 50 ms until true; throws after `ms` naming `label`. */
export async function waitFor (what: () => boolean | Promise<boolean>, label: string, ms = 30_000): Promise<void> {
  const end = Date.now() + ms
  while (!(await what())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${label}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

export interface WapiWorld {
  dir: string
  world: DemoWorld
  /** The `unix:///…` address serve is configured with. */
  socket: string
  /** The demo config with the local issuer: what `workload-api` serves the identity from. */
  issuerConfig: string
  /** The same config with `credentials: { source: workload-api }` and no inlineTrustConfig. */
  serveConfig: string
  close: () => Promise<void>
}

/** Creates the world and starts its backends. */
export async function createWapiWorld (): Promise<WapiWorld> {
  const { dir, world, ports, stop } = await startDemoBackends('spiffe-lb-wapi-e2e-')
  const socket = `unix://${join(dir, 'agent.sock')}`
  const text = demoConfigYaml(world, ports, { proxyPort: 0, adminPort: 0 })
  const issuerConfig = join(dir, 'issuer.yaml')
  await writeFile(issuerConfig, text)
  // The partner domain now arrives as a federated bundle of the Workload API; configuring it in
  // additionalTrustBundles as well would be the duplicate the source refuses.
  const serveText = text.replace(/ {4}inlineTrustConfig:\n(?: {6,}.*\n)+/, '')
    .replace(/credentials: .*\n/, `credentials: { source: workload-api, endpoint: "${socket}" }\n`)
    // One request per connection to the partner: every request is a new handshake (resumption
    // stays on), so a withdrawn bundle is observed at the handshake, where this source enforces it.
    .replace(/( {2}- name: partner\n(?: {4}.*\n)*? {4}tlsSettings: .*\n)/, '$1    connectionPool: { maxRequestsPerConnection: 1, tlsSessionResumption: true }\n')
  if (!serveText.includes('workload-api') || !serveText.includes('maxRequestsPerConnection: 1')) throw new Error('could not derive the serve config')
  const serveConfig = join(dir, 'serve.yaml')
  await writeFile(serveConfig, serveText)
  return {
    dir,
    world,
    socket,
    issuerConfig,
    serveConfig,
    close: stop
  }
}

export interface ServeChild {
  proxy: string
  admin: string
  output: () => string
  status: () => Promise<{ identity: { spiffeId: string, generation?: number, source?: string, sourceState?: string, lastError?: string, svidExpiry: string } | null, trustDomains: Array<{ trustDomain: string }> }>
  stop: () => Promise<number | null>
}

/** Spawns `serve -c config` and resolves once it listens. */
export async function spawnServe (config: string): Promise<ServeChild> {
  const child: ChildProcess = spawn(process.execPath, [main, 'serve', '-c', config, '--log-level', 'warn', '--drain-timeout', '2s'], { stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  child.stdout?.on('data', (d: Buffer) => { output += d.toString() })
  child.stderr?.on('data', (d: Buffer) => { output += d.toString() })
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => { resolve(code) }))
  await waitFor(() => /admin listening on (http:[^\s"]+)/.test(output) || child.exitCode !== null, 'serve to listen', 90_000)
    .catch((e: Error) => { child.kill('SIGKILL'); throw new Error(`${e.message}\n${output}`) })
  const proxy = /proxy listening on (http:[^\s"]+)/.exec(output)?.[1] ?? ''
  const admin = /admin listening on (http:[^\s"]+)/.exec(output)?.[1] ?? ''
  if (proxy === '' || admin === '') throw new Error(`serve did not start:\n${output}`)
  return {
    proxy,
    admin,
    output: () => output,
    status: async () => JSON.parse((await curl(`${admin}/status`)).body),
    stop: async () => { child.kill('SIGTERM'); return await exited }
  }
}
