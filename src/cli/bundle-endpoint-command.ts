import type { Command } from 'commander'
import { DEFAULT_REFRESH_HINT, startBundleEndpointCommand, type BundleEndpointCommandOptions } from '../server/bundle-endpoint.ts'
import { EXIT } from '../server/command-output.ts'

/** Registers `spiffe-lb bundle-endpoint`. */
export function registerBundleEndpointCommand (program: Command): void {
  program.command('bundle-endpoint')
    .description('serve a workload identity pool\'s trust bundle as a SPIFFE bundle endpoint (SPIFFE Federation), for partners to federate with')
    .requiredOption('-c, --config <file>', 'config file (YAML or JSON)')
    .requiredOption('--cert <file>', 'server certificate chain (PEM): an X509-SVID of the pool\'s domain for https_spiffe, a web certificate for https_web')
    .requiredOption('--key <file>', 'private key of --cert (PEM)')
    .option('--listen <host:port>', 'address to listen on (port 0 picks a free port)', '127.0.0.1:8443')
    .option('--pool <id>', 'workload identity pool whose ca bundle is served; default: the only pool with an issuance config')
    .option('--state <dir>', 'control plane state directory (CA pools); default: the config\'s credentials.stateDir')
    .option('--refresh-hint <duration>', 'spiffe_refresh_hint served, seconds with an "s" suffix', DEFAULT_REFRESH_HINT)
    .action(async (opts: BundleEndpointCommandOptions) => {
      const out = { stdout: process.stdout, stderr: process.stderr }
      const started = await startBundleEndpointCommand(opts, out)
      if (typeof started === 'number') { process.exitCode = started; return }
      const signal = await new Promise<NodeJS.Signals>((resolve) => {
        const stop = (sig: NodeJS.Signals): void => { process.off('SIGTERM', stop); process.off('SIGINT', stop); resolve(sig) }
        process.on('SIGTERM', stop)
        process.on('SIGINT', stop)
      })
      out.stderr.write(`spiffe-lb bundle-endpoint: ${signal}, stopping\n`)
      await started.close()
      process.exitCode = EXIT.OK
    })
}
