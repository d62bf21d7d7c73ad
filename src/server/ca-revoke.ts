import { systemClock, type Clock } from '../internal/clock.ts'
import { quote } from '../internal/errors.ts'
import { readFileBytes } from './read-text-file.ts'
import { revokeInCaDir } from '../control/ca-revocation.ts'
import { EXIT, type CommandOutput } from './command-output.ts'
import { readChain } from './certificate-file.ts'
import { serverError } from './errors.ts'

/** Options of `ca revoke`, as commander parses them. */
export interface CaRevokeOptions {
  ca: string
  serial?: string
  cert?: string
  /** How long the published CRL stays fresh, `86400s` form. */
  crlValidity: string
}

/**
 * `ca revoke --ca DIR (--serial HEX | --cert FILE)`: adds the certificate to the CA's revoked
 * list and publishes the CA's CRL (`DIR/crl.pem`). Returns 0; bad arguments throw (exit 2).
 */
export async function runCaRevoke (opts: CaRevokeOptions, out: CommandOutput, clock: Clock = systemClock): Promise<number> {
  if ((opts.serial === undefined) === (opts.cert === undefined)) {
    throw serverError('ERR_SPIFFE_CLI_REVOKE_TARGET', 'give exactly one of --serial HEX or --cert FILE', { at: '--serial' })
  }
  const m = /^(\d+)s$/.exec(opts.crlValidity)
  if (m === null || Number(m[1]) <= 0) {
    throw serverError('ERR_SPIFFE_CLI_DURATION', `--crl-validity must be seconds with an "s" suffix, like 86400s, got ${quote(opts.crlValidity)}`, { at: '--crl-validity' })
  }
  const serial = opts.serial ?? readChain(await readFileBytes(opts.cert ?? '', 'certificate'), opts.cert ?? '')[0]?.serialNumber ?? ''
  const { crlPath, revoked } = await revokeInCaDir(opts.ca, serial, clock.now(), Number(m[1]) * 1000)
  out.stdout.write(`revoked serial ${serial.toLowerCase()}; wrote ${crlPath} (${revoked.length} revoked)\n`)
  return EXIT.OK
}
