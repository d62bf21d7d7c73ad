import { systemClock, type Clock } from '../../internal/clock.ts'
import { durationFlag } from '../../process/duration-flag.ts'
import { readFileBytes } from '../../process/read-text-file.ts'
import { revokeInCaDir } from '../../control/ca-revocation.ts'
import { EXIT, type CommandOutput } from '../../process/command-output.ts'
import { readChain } from '../certificate-file.ts'
import { cliError } from '../../process/errors.ts'

/** Options of `ca revoke`, as commander parses them. */
export interface CaRevokeOptions {
  ca: string
  serial?: string
  cert?: string
  /** How long the published CRL stays fresh: a duration such as `86400s` or `24h`. */
  crlValidity: string
}

/**
 * `ca revoke --ca DIR (--serial HEX | --cert FILE)`: adds the certificate to the CA's revoked
 * list and publishes the CA's CRL (`DIR/crl.pem`). Returns 0; bad arguments throw (exit 2).
 */
export async function runCaRevoke (opts: CaRevokeOptions, out: CommandOutput, clock: Clock = systemClock): Promise<number> {
  if ((opts.serial === undefined) === (opts.cert === undefined)) {
    throw cliError('ERR_SPIFFE_CLI_REVOKE_TARGET', 'give exactly one of --serial HEX or --cert FILE', { at: '--serial' })
  }
  const validityMs = durationFlag('--crl-validity', opts.crlValidity, 1000)
  const serial = opts.serial ?? readChain(await readFileBytes(opts.cert ?? '', 'certificate'), opts.cert ?? '')[0]?.serialNumber ?? ''
  const { crlPath, revoked } = await revokeInCaDir(opts.ca, serial, clock.now(), validityMs)
  out.stdout.write(`revoked serial ${serial.toLowerCase()}; wrote ${crlPath} (${revoked.length} revoked)\n`)
  return EXIT.OK
}
