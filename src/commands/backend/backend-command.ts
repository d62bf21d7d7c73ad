import type { Command } from 'commander'
import { logFormatOption, logLevelOption } from '../../process/log-options.ts'
import { startBackendCommand, type BackendCommandOptions } from '../../testbed/backend-starter.ts'
import { formatHostPort } from '../../internal/host-port.ts'
import { EXIT } from '../../process/command-output.ts'
import { announceReady } from '../../process/ready-message.ts'
import { lifecycle, openCommandLog, type LogFlags } from '../../process/command-log.ts'

const collect = (value: string, previous: string[] = []): string[] => [...previous, value]

/** Registers `backend` on the program: runs until SIGTERM/SIGINT, reloads credentials on SIGHUP. */
export function registerBackendCommand (program: Command): void {
  program.command('backend')
    .description('an mTLS test backend: requires a client X.509-SVID and echoes the caller\'s SPIFFE ID as JSON')
    .option('--listen <host:port>', 'address to listen on (port 0 picks a free port)', '127.0.0.1:0')
    .option('--credentials-dir <dir>', 'credentials in the GCE layout (certificates.pem, private_key.pem, ca_certificates.pem, trust_bundles.json); followed for rotation')
    .option('--workload-api <address>', 'a SPIFFE Workload API (unix:///<path> or tcp://<ip>:<port>): its default SVID and bundles, rotation followed')
    .option('--cert <file>', 'X.509-SVID chain (PEM, leaf first)')
    .option('--key <file>', 'private key of the SVID (PEM)')
    .option('--bundle <td=file>', 'trust anchors (PEM) of one trust domain, e.g. example.org=root.pem (repeatable)', collect)
    .option('--crl <td=file>', 'a CRL (PEM or DER) of one trust domain: its revoked client certificates are refused; repeatable, re-read on change', collect)
    .option('--allow-id <spiffe-id>', 'allow only this client ID (repeatable; union with --allow-trust-domain)', collect)
    .option('--allow-trust-domain <td>', 'allow only clients of this trust domain (repeatable)', collect)
    .option('--name <label>', 'label echoed in every response')
    .addOption(logLevelOption()).addOption(logFormatOption())
    .action(async (opts: BackendCommandOptions & LogFlags) => {
      const logs = openCommandLog(opts, { stdout: process.stdout, stderr: process.stderr })
      const out = { stdout: process.stdout, stderr: process.stderr, log: logs.log }
      const running = await startBackendCommand(opts, out)
      announceReady({ command: 'backend', address: formatHostPort(running.backend.host, running.backend.port) })
      const onHup = (): void => { running.reload().catch(() => {}) }
      process.on('SIGHUP', onHup)
      const signal = await new Promise<NodeJS.Signals>((resolve) => {
        const stop = (sig: NodeJS.Signals): void => {
          process.off('SIGTERM', stop)
          process.off('SIGINT', stop)
          resolve(sig)
        }
        process.on('SIGTERM', stop)
        process.on('SIGINT', stop)
      })
      process.off('SIGHUP', onHup)
      lifecycle(logs.log).info({ signal }, `${signal}: stopping`)
      await running.stop()
      logs.close()
      process.exitCode = EXIT.OK
    })
}
