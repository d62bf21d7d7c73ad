import type { Command } from 'commander'
import { runCaCreate, type CaCommandOptions } from './ca-create.ts'
import { CA_LIFETIME_MS, CRL_VALIDITY_MS } from '../../defaults.ts'
import { formatDuration } from '../../internal/duration.ts'
import { runCaRevoke, type CaRevokeOptions } from './ca-revoke.ts'

function addCaOptions (cmd: Command, lifetime: string): Command {
  return cmd
    .requiredOption('--out <dir>', 'directory to write ca.pem and ca.key.pem into')
    .option('--subject <dn>', 'subject, like gcloud\'s --subject: "CN=Demo Root CA, O=Demo"')
    .option('--key-algorithm <alg>', 'ECDSA_P256 (default), ECDSA_P384, RSA_2048, RSA_3072, RSA_4096, or a gcloud name (ec-p256-sha256 …)')
    .option('--max-chain-length <n>', 'basicConstraints pathLen: how many subordinate CAs may follow')
    .option('--lifetime <duration>', 'validity, a duration like 86400s, 24h or 90m', lifetime)
    .option('--force', 'replace an existing CA in --out')
}

/** Registers `ca create-root` and `ca create-subordinate` (local CA pool management, like `gcloud privateca`). */
export function registerCaCommand (program: Command): void {
  const ca = program.command('ca').description('create a local root or subordinate CA (like gcloud privateca roots/subordinates create), or revoke a certificate')
  const output = { stdout: process.stdout, stderr: process.stderr }
  addCaOptions(ca.command('create-root').description('create a self-signed root CA in --out'), formatDuration(CA_LIFETIME_MS))
    .action(async (opts: CaCommandOptions) => { process.exitCode = await runCaCreate(opts, output) })
  addCaOptions(ca.command('create-subordinate').description('create a CA signed by the CA in --parent; also writes chain.pem and root.pem'), formatDuration(CA_LIFETIME_MS))
    .requiredOption('--parent <dir>', 'directory of the parent CA')
    .action(async (opts: CaCommandOptions) => { process.exitCode = await runCaCreate(opts, output) })
  ca.command('revoke').description('revoke a certificate of the CA in --ca and publish its CRL (crl.pem)')
    .requiredOption('--ca <dir>', 'the CA directory: from ca create-*, or a CA pool\'s <stateDir>/ca-pools/<pool>')
    .option('--serial <hex>', 'serial number of the certificate to revoke')
    .option('--cert <file>', 'the certificate to revoke (PEM; its first certificate)')
    .option('--crl-validity <duration>', 'how long the CRL stays fresh (nextUpdate), a duration like 86400s or 168h', formatDuration(CRL_VALIDITY_MS))
    .action(async (opts: CaRevokeOptions) => { process.exitCode = await runCaRevoke(opts, output) })
}
