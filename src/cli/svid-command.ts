import type { Command } from 'commander'
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { GCE_FILES } from '../credentials/gce-files.ts'
import { systemClock, type Clock } from '../internal/clock.ts'
import { SpiffeLbError, isSpiffeLbError, quote } from '../internal/errors.ts'
import { issueSvidCertificate } from '../pki/index.ts'
import { SpiffeId } from '../spiffe/index.ts'
import { keyAlgorithmOption, lifetimeOption, loadCaDir, writeFileAtomic } from './ca-command.ts'
import type { CommandOutput } from './config-check.ts'
import { EXIT } from './program.ts'

/** Options of `svid issue`, as commander parses them. */
export interface SvidIssueOptions {
  ca: string
  id: string
  out: string
  lifetime: string
  keyAlgorithm?: string
  dns: string[]
}

/** Returns `--id` as a SPIFFE ID usable in an X.509-SVID (valid, with a non-empty path). */
function svidId (text: string): SpiffeId {
  let id: SpiffeId
  try {
    id = SpiffeId.fromString(text)
  } catch (err) {
    if (!isSpiffeLbError(err)) throw err
    throw new SpiffeLbError(err.code, `--id: ${err.message}`, { at: '--id', cause: err })
  }
  // X509-SVID section 2: the ID of a workload SVID has a path; the bare trust domain ID is not one.
  if (id.path === '') {
    throw new SpiffeLbError('ERR_SPIFFE_CLI_ID_HAS_NO_PATH',
      `--id ${quote(text)} names only a trust domain; an x.509-svid needs a path like spiffe://${id.trustDomain.name}/ns/NS/sa/ID`, { at: '--id' })
  }
  return id
}

/**
 * `svid issue`: issues an X.509-SVID for `--id` from the CA in `--ca` and writes it in the GCE
 * credential layout: `certificates.pem` (leaf + intermediates), `private_key.pem` (0600),
 * `ca_certificates.pem` (the root of the CA's trust domain), each file replaced atomically.
 * Returns the exit code.
 */
export async function runSvidIssue (opts: SvidIssueOptions, out: CommandOutput, clock: Clock = systemClock): Promise<number> {
  const id = svidId(opts.id)
  const lifetimeMs = lifetimeOption(opts.lifetime)
  const keyAlgorithm = keyAlgorithmOption(opts.keyAlgorithm)
  const ca = await loadCaDir(opts.ca)
  const issued = await issueSvidCertificate(ca, {
    uri: id.toString(),
    notBefore: clock.now(),
    lifetimeMs,
    dnsNames: opts.dns,
    ...(keyAlgorithm === undefined ? {} : { keyAlgorithm })
  })
  await mkdir(opts.out, { recursive: true })
  // The key first: certificates.pem never names a key that is not on disk yet.
  const files: Array<[string, string, number]> = [
    [GCE_FILES.privateKey, issued.keyPem, 0o600],
    [GCE_FILES.certificates, issued.chainPem, 0o644],
    [GCE_FILES.caCertificates, ca.rootPem, 0o644]
  ]
  for (const [name, data, mode] of files) {
    await writeFileAtomic(join(opts.out, name), data, mode)
    out.stdout.write(`wrote ${join(opts.out, name)} (mode ${mode.toString(8).padStart(4, '0')})\n`)
  }
  const clamped = issued.cert.validToDate.getTime() < issued.cert.validFromDate.getTime() + lifetimeMs - 1000
  out.stdout.write(`issued ${id.toString()}: serial ${issued.serialHex}, valid ${issued.cert.validFromDate.toISOString()} .. ` +
    `${issued.cert.validToDate.toISOString()}${clamped ? ' (shortened: the ca expires first)' : ''}\n`)
  return EXIT.OK
}

/** Registers `svid issue`. */
export function registerSvidCommand (program: Command): void {
  program.command('svid').description('issue X.509-SVIDs from a local CA')
    .command('issue').description('issue an X.509-SVID into a directory in the GCE credential file layout')
    .requiredOption('--ca <dir>', 'CA directory made by `ca create-root` or `ca create-subordinate`')
    .requiredOption('--id <spiffe-id>', 'SPIFFE ID, like spiffe://TD/ns/NS/sa/ID')
    .requiredOption('--out <dir>', 'directory for certificates.pem, private_key.pem, ca_certificates.pem')
    .option('--lifetime <duration>', 'validity, seconds with an "s" suffix', '86400s')
    .option('--key-algorithm <alg>', 'ECDSA_P256 (default), ECDSA_P384, RSA_2048, RSA_3072, RSA_4096')
    .option('--dns <name>', 'add a DNS SAN (repeatable)', (v: string, prev: string[]) => [...prev, v], [] as string[])
    .action(async (opts: SvidIssueOptions) => {
      process.exitCode = await runSvidIssue(opts, { stdout: process.stdout, stderr: process.stderr })
    })
}
