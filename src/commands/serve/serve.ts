import { availableParallelism } from 'node:os'
import { formatIssue } from '../../config/issues.ts'
import { lifecycle, openCommandLog, logFormatFlag, logLevelFlag } from '../../process/command-log.ts'
import { durationFlag } from '../../process/duration-flag.ts'
import { formatHostPort } from '../../internal/host-port.ts'
import { announceReady } from '../../process/ready-message.ts'
import { quote } from '../../internal/errors.ts'
import { EXIT } from '../../process/command-output.ts'
import { startServer } from '../../runtime/bootstrap.ts'
import { startCredentialAlarm } from '../../runtime/credential-alarm.ts'
import { systemClock } from '../../internal/clock.ts'
import { watchConfigFile, type ConfigWatcher } from '../../runtime/config-watcher.ts'
import type { RunningServer } from '../../runtime/wiring.ts'
import { loadServeableConfig, runConfigCheck, summarize } from '../../runtime/config-check.ts'
import type { CommandOutput } from '../../process/command-output.ts'
import { cliError } from '../../process/errors.ts'

/** The flags of the command, as commander parses them. */
export interface ServeFlags { config: string, check?: boolean, drainTimeout: string, logLevel: string, logFormat?: string, workers?: string }

/**
 * Returns the number of proxy processes `--workers` asks for: a positive integer, or `auto` for
 * `os.availableParallelism()`. Throws `ERR_SPIFFE_CLI_BAD_WORKERS` for anything else.
 */
export function parseWorkers (value: string): number {
  if (value === 'auto') return availableParallelism()
  const n = /^[0-9]+$/.test(value) ? Number(value) : Number.NaN
  if (!Number.isSafeInteger(n) || n < 1) {
    throw cliError('ERR_SPIFFE_CLI_BAD_WORKERS',
      `--workers must be a positive integer or "auto", got ${quote(value)}`, { at: '--workers' })
  }
  return n
}

/**
 * Runs `spiffe-lb serve`: validates the config (exit 2 listing every error), starts the data
 * plane, reloads on SIGHUP and when the config file changes (keeping the running config when
 * the new one is invalid), and on SIGTERM/SIGINT stops accepting and drains in-flight requests.
 * With `--workers N` (N > 1) it is the node:cluster primary of N proxy processes sharing the
 * listener (see cluster-primary.ts). Resolves with the exit code once the server has stopped.
 */
export async function runServe (flags: ServeFlags, out: CommandOutput, onStarted?: (server: RunningServer) => void): Promise<number> {
  const workers = parseWorkers(flags.workers ?? '1')
  logLevelFlag(flags.logLevel)
  logFormatFlag(flags.logFormat, false)
  const drainMs = durationFlag('--drain-timeout', flags.drainTimeout)
  if (flags.check === true) return await runConfigCheck(flags.config, out)
  const loaded = await loadServeableConfig(flags.config, out)
  if (!loaded.ok) return EXIT.USAGE
  const logs = openCommandLog(flags, out)
  const log = logs.log
  let server: RunningServer
  let workerPids: readonly number[] = []
  if (workers === 1) {
    server = await startServer(loaded.config, { logger: log })
  } else {
    // Loaded only for a cluster: a single process never needs the primary's worker machinery.
    const { startCluster } = await import('../../runtime/cluster-primary.ts')
    const cluster = await startCluster(loaded.config, { workers, logger: log, logLevel: logs.level, logFormat: logs.format })
    server = cluster
    workerPids = cluster.workerPids
  }
  let reloading = Promise.resolve()
  const reload = (why: string): void => {
    reloading = reloading.then(async () => {
      const result = await server.reload()
      if (result.ok) {
        lifecycle(log).info({ why, changes: result.changes }, `config reloaded (${why}): ${result.changes.length === 0 ? 'no changes' : result.changes.join('; ')}`)
        return
      }
      // One record per broken rule, each complete: the place, the rule, its code, and that
      // nothing changed.
      for (const issue of result.errors) {
        log.warn({ why, file: flags.config, path: issue.path, code: issue.code },
          `config reload refused (${why}): ${formatIssue(issue, flags.config)}; the running config stays in force`)
      }
    }).catch((err: unknown) => { log.error({ err }, `config reload failed (${why}); the running config stays in force`) })
  }
  // Armed before the listening line: a save right after it must not be missed.
  let watcher: ConfigWatcher | undefined
  try {
    watcher = await watchConfigFile(flags.config, () => { reload('config file changed') })
  } catch (err) {
    log.warn({ err }, 'cannot watch the config file; reload with SIGHUP')
  }
  const proxyScheme = server.config.frontend.tls === undefined && server.config.frontend.serverTlsPolicy === undefined ? 'http' : 'https'
  const proxyUrl = `${proxyScheme}://${formatHostPort(server.proxyAddress.address, server.proxyAddress.port)}`
  const adminUrl = `http://${formatHostPort(server.adminAddress.address, server.adminAddress.port)}`
  lifecycle(log).info({ config: flags.config }, `spiffe-lb serving ${summarize(server.config)}`)
  lifecycle(log).info({ url: proxyUrl }, `proxy listening on ${proxyUrl}`)
  lifecycle(log).info({ url: adminUrl }, `admin listening on ${adminUrl}`)
  if (workerPids.length > 0) lifecycle(log).info({ workers, pids: workerPids }, `${workers} workers share the proxy listener (pids ${workerPids.join(' ')})`)
  announceReady({
    command: 'serve',
    address: formatHostPort(server.proxyAddress.address, server.proxyAddress.port),
    admin: formatHostPort(server.adminAddress.address, server.adminAddress.port)
  })
  onStarted?.(server)
  // Unusable credentials mean a 502 on every request: say so where the operator looks first.
  const alarm = startCredentialAlarm(server.credentials, systemClock, {
    onProblem: (line) => {
      log.warn({ problem: line }, `credentials unusable: ${line}; requests through these backend services get 502 until a valid svid arrives (see /status)`)
    },
    onRecovered: () => { lifecycle(log).info('credentials usable again') }
  })

  const onHup = (): void => { reload('SIGHUP') }
  process.on('SIGHUP', onHup)

  await new Promise<void>((resolve) => {
    const stop = (signal: string): void => {
      lifecycle(log).info({ signal, drainMs }, 'shutting down: draining in-flight requests')
      process.off('SIGTERM', onTerm)
      process.off('SIGINT', onInt)
      resolve()
    }
    const onTerm = (): void => { stop('SIGTERM') }
    const onInt = (): void => { stop('SIGINT') }
    process.on('SIGTERM', onTerm)
    process.on('SIGINT', onInt)
  })
  process.off('SIGHUP', onHup)
  watcher?.close()
  alarm.stop()
  await reloading
  await server.close(drainMs)
  lifecycle(log).info('spiffe-lb stopped')
  logs.close()
  return EXIT.OK
}
