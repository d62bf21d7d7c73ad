import { mkdir } from 'node:fs/promises'
import { readTextFile } from '../../process/read-text-file.ts'
import { join } from 'node:path'
import { GCE_FILES } from '../../credentials/gce-files.ts'
import { systemClock, type Clock } from '../../internal/clock.ts'
import { isSpiffeLbError, quote, withContext } from '../../internal/errors.ts'
import { issueSvidCertificate } from '../../pki/index.ts'
import { SpiffeId } from '../../spiffe/index.ts'
import { loadCaDir } from '../../control/ca-layout.ts'
import { keyAlgorithmOption, lifetimeOption, writeCertFile } from '../cert-options.ts'
import { EXIT, type CommandOutput } from '../../process/command-output.ts'
import { cliError } from '../../process/errors.ts'

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
    throw withContext(err, `--id: ${err.message}`, { at: '--id', cause: err })
  }
  // X509-SVID section 2: the ID of a workload SVID has a path; the bare trust domain ID is not one.
  if (id.path === '') {
    throw cliError('ERR_SPIFFE_CLI_ID_HAS_NO_PATH',
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
  const ca = await loadCaDir(opts.ca, readTextFile)
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
    await writeCertFile(join(opts.out, name), data, mode)
    out.stdout.write(`wrote ${join(opts.out, name)} (mode ${mode.toString(8).padStart(4, '0')})\n`)
  }
  const clamped = issued.cert.validToDate.getTime() < issued.cert.validFromDate.getTime() + lifetimeMs - 1000
  out.stdout.write(`issued ${id.toString()}: serial ${issued.serialHex}, valid ${issued.cert.validFromDate.toISOString()} .. ` +
    `${issued.cert.validToDate.toISOString()}${clamped ? ' (shortened: the ca expires first)' : ''}\n`)
  return EXIT.OK
}
