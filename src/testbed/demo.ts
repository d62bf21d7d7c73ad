import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { loadConfigFile } from '../config/load.ts'
import { startBackendCommand } from './backend-starter.ts'
import type { RunningBackend } from './backend-starter.ts'
import { startServer } from '../runtime/bootstrap.ts'
import type { ServerHandle } from '../runtime/bootstrap.ts'
import type { CommandOutput } from '../process/command-output.ts'
import { writeIssues } from '../runtime/config-check.ts'
import { commandLogger } from '../process/command-log.ts'
import { DEMO, createDemoWorld, demoConfigYaml } from './up-world.ts'
import { inboundConfigYaml, startShopApp } from './up-inbound.ts'
import type { SpiffeLbConfig } from '../config/types.ts'
import type { DemoWorld } from './up-world.ts'
import { formatHostPort } from '../internal/host-port.ts'
import { quote } from '../internal/errors.ts'
import { configError } from '../config/errors.ts'

/** The flags of the command, as commander parses them. */
export interface UpFlags { dir: string, port: string, adminPort: string, logLevel: string, logFormat?: string, host?: string }

/** The running demo: backends, proxy, and where its files are. */
export interface RunningDemo {
  world: DemoWorld
  configFile: string
  server: ServerHandle
  /** The inbound hop: spiffe-lb's inbound listener in the partner domain, and the plain app behind it. */
  inbound: { server: ServerHandle, appPort: number }
  backends: ReadonlyMap<string, RunningBackend>
  stop: () => Promise<void>
}

/**
 * Starts the embedded demo (docs/architecture.md#process-model, `up`): CAs and a workload identity pool in
 * `--dir`, four mTLS test backends (two in the pool's trust domain, one in a partner domain
 * trusted through `additionalTrustBundles`, one in an untrusted domain), then the proxy and admin.
 * Everything logs through `out.log`, the process's one log output (backends with `backend: NAME`).
 */
export async function startDemo (flags: UpFlags, out: CommandOutput): Promise<RunningDemo> {
  const log = commandLogger(out)
  const world = await createDemoWorld(flags.dir, Date.now())
  const backends = new Map<string, RunningBackend>()
  let app: Awaited<ReturnType<typeof startShopApp>> | undefined
  let inbound: ServerHandle | undefined
  const stopBackends = async (): Promise<void> => {
    await inbound?.close(2000)
    app?.server.closeAllConnections()
    app?.server.close()
    await Promise.all([...backends.values()].map(async (b) => { await b.stop() }))
  }
  try {
    for (const b of world.backends) {
      backends.set(b.name, await startBackendCommand({
        listen: '127.0.0.1:0', cert: b.certFile, key: b.keyFile, bundle: b.bundles, name: b.name
      }, { ...out, log }))
    }
    // The other end of the handshake: proxy -> spiffe-lb inbound (partner domain) -> plain app.
    app = await startShopApp()
    const inboundFile = join(world.dir, 'inbound', 'config.yaml')
    await writeFile(inboundFile, inboundConfigYaml(world.inbound, { domain: DEMO.trustDomain, projectId: DEMO.projectId, projectNumber: DEMO.projectNumber }, app.port, '127.0.0.1'))
    inbound = await startServer(await loadDemoConfig(inboundFile, out), { logger: log.child({ listener: 'inbound' }) })
    const ports = new Map([...backends].map(([name, run]) => [name, run.backend.port]))
    const configFile = join(world.dir, 'config.yaml')
    await writeFile(configFile, demoConfigYaml(world, ports, { proxyPort: Number(flags.port), adminPort: Number(flags.adminPort), inboundPort: inbound.proxyAddress.port, ...(flags.host === undefined ? {} : { host: flags.host }) }))
    const server = await startServer(await loadDemoConfig(configFile, out), { logger: log })
    const running = inbound
    return { world, configFile, server, inbound: { server: running, appPort: app.port }, backends, stop: async () => { await server.close(2000); await stopBackends() } }
  } catch (err) {
    await stopBackends()
    throw err
  }
}

/** Returns the generated config at `file`, loaded; writes its issues and throws when it is invalid. */
async function loadDemoConfig (file: string, out: CommandOutput): Promise<SpiffeLbConfig> {
  const loaded = await loadConfigFile(file)
  if (!loaded.ok) {
    writeIssues(file, loaded.errors, out)
    throw configError('ERR_SPIFFE_CONFIG_INVALID', `the generated demo config ${quote(file)} is invalid`)
  }
  return loaded.config
}

/**
 * Returns the human summary `up` logs when ready: what runs where, and the curl commands to try
 * (one record; its message is several lines, kept whole in pretty mode).
 */
export function demoSummary (demo: RunningDemo): string {
  const proxy = `http://${formatHostPort('127.0.0.1', demo.server.proxyAddress.port)}`
  const admin = `http://${formatHostPort('127.0.0.1', demo.server.adminAddress.port)}`
  const id = demo.server.credentials[0]?.identity.toString() ?? '(none)'
  const rows: string[][] = [['component', 'listens on', 'SPIFFE ID', 'trusted by proxy']]
  rows.push(['proxy (backend service)', proxy.slice(7), id, '-'])
  rows.push(['admin', admin.slice(7), '-', '-'])
  for (const b of demo.world.backends) {
    const port = demo.backends.get(b.name)?.backend.port ?? 0
    rows.push([`backend ${b.name}`, formatHostPort('127.0.0.1', port), b.spiffeId, b.name === 'untrusted' ? 'no' : b.name === 'partner' ? 'yes (additionalTrustBundles)' : 'yes (own domain)'])
  }
  rows.push(['spiffe-lb inbound (shop)', formatHostPort('127.0.0.1', demo.inbound.server.proxyAddress.port), demo.world.inbound.spiffeId, 'yes (additionalTrustBundles)'])
  rows.push(['  plain app behind it', formatHostPort('127.0.0.1', demo.inbound.appPort), '- (cleartext, loopback)', '-'])
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? []
  const table = rows.map((r) => r.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd()).join('\n')
  return `demo ready (Ctrl-C to stop)
${table}

config: ${demo.configFile}
try:
  curl -s ${proxy}/hello              # accepted: backend in the pool's own trust domain echoes the proxy's ID
  curl -s ${proxy}/partner/hello      # accepted: partner domain trusted through additionalTrustBundles
  curl -s ${proxy}/untrusted/hello    # 502: the backend's trust domain has no bundle
  curl -s ${proxy}/shop/orders        # proxy -> spiffe-lb inbound (partner domain, verifies the proxy's SVID) -> plain app
  curl -s ${admin}/status             # identity, SVID expiry, trust domains, endpoint health
dashboard:
  ${admin}/                    # open in a browser: identity, trust, backends, peers, live traffic
any trust domain (SPIRE-style, no pools): tlsSettings.identity: spiffe://example.org/ns/lb/sa/frontend
  with credentials.source workload-api, directory or metadata (README: Running with a SPIRE agent)`
}
