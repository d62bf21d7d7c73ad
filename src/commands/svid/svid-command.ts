import type { Command } from 'commander'
import { runSvidIssue, type SvidIssueOptions } from './svid-issue.ts'
import { SVID_LIFETIME_MS } from '../../defaults.ts'
import { formatDuration } from '../../internal/duration.ts'

/** Registers `svid issue`. */
export function registerSvidCommand (program: Command): void {
  program.command('svid').description('issue X.509-SVIDs from a local CA')
    .command('issue').description('issue an X.509-SVID into a directory in the GCE credential file layout')
    .requiredOption('--ca <dir>', 'CA directory made by `ca create-root` or `ca create-subordinate`')
    .requiredOption('--id <spiffe-id>', 'SPIFFE ID, like spiffe://<trust-domain>/ns/<ns>/sa/<id>')
    .requiredOption('--out <dir>', 'directory for certificates.pem, private_key.pem, ca_certificates.pem')
    .option('--lifetime <duration>', 'validity, a duration like 86400s, 24h or 90m', formatDuration(SVID_LIFETIME_MS))
    .option('--key-algorithm <alg>', 'ECDSA_P256 (default), ECDSA_P384, RSA_2048, RSA_3072, RSA_4096')
    .option('--dns <name>', 'add a DNS SAN (repeatable)', (v: string, prev: string[]) => [...prev, v], [] as string[])
    .action(async (opts: SvidIssueOptions) => {
      process.exitCode = await runSvidIssue(opts, { stdout: process.stdout, stderr: process.stderr })
    })
}
