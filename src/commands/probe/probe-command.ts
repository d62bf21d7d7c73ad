import type { Command } from 'commander'
import { runProbe, type ProbeCommandOptions } from './run-probe.ts'

/** Registers `probe`. */
export function registerProbeCommand (program: Command): void {
  const collect = (v: string, prev: string[]): string[] => [...prev, v]
  program.command('probe')
    .description('judge a live backend as the proxy would: TLS parameters, chain, every broken rule, resumption (exit 0 accept, 1 reject, 2 error); our identity comes from --cert and --key, or from -c and --service')
    .argument('<host:port>', 'the backend endpoint')
    .option('--cert <file>', 'our X.509-SVID chain (PEM), presented as client certificate (with --key, unless -c)')
    .option('--key <file>', 'the private key of --cert (PEM)')
    .option('--bundle <td=file>', 'trust anchors (PEM) of one trust domain, e.g. example.org=root.pem (repeatable)', collect, [] as string[])
    .option('--trust-config <file>', 'YAML/JSON: a serving config, spiffeTrustStores, trust_bundles.json or a SPIFFE bundle map (repeatable)', collect, [] as string[])
    .option('-c, --config <file>', 'a serving config: probe with the identity, trust and settings of --service')
    .option('--service <name>', 'the backend service of --config (required with -c)')
    .option('--servername <name>', 'SNI to send (default: the host when it is a name)')
    .option('--path <path>', 'the path of the one GET sent after the handshake, as the proxy would (with --role client, as a caller would)', '/')
    .option('--host <host>', 'the Host header of that GET (default: the target)')
    .option('--timeout <duration>', 'deadline of each connection, like 10s or 500ms (a bare number is milliseconds)', '10s')
    .option('--crl <file>', 'a CRL (PEM or DER) signed by a trusted authority (repeatable)', collect, [] as string[])
    .option('--now <iso>', 'judge validity at this time instead of now (ISO 8601)')
    .option('--role <role>', 'server: judge a backend (default); client: call an inbound listener as a caller would and send one request', 'server')
    .option('--json', 'print the report, and any error, as JSON')
    .action(async (target: string, opts: Omit<ProbeCommandOptions, 'target'>) => {
      process.exitCode = await runProbe({ target, ...opts }, { stdout: process.stdout, stderr: process.stderr })
    })
}
