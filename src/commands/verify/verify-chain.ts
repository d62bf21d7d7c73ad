import { systemClock, type Clock } from '../../internal/clock.ts'
import { quote } from '../../internal/errors.ts'
import { auditX509Svid } from '../../spiffe/index.ts'
import { readFileBytes } from '../../process/read-text-file.ts'
import type { CommandOutput } from '../../process/command-output.ts'
import { nowOption } from '../../process/now-flag.ts'
import { EXIT } from '../../process/command-output.ts'
import { loadBundles, loadCrls } from '../trust-inputs.ts'
import { readChain } from '../certificate-file.ts'
import { verdictLines } from '../verdict-lines.ts'
import { cliError } from '../../process/errors.ts'
import { STALE_CRL_POLICIES, oneOfText } from '../../enums.ts'

/** Options of `verify`, as commander parses them. */
export interface VerifyCommandOptions {
  chain: string
  bundle: string[]
  trustConfig: string[]
  role: string
  now?: string
  /** CRL files (PEM or DER), each verified against a trusted CA or a presented intermediate. */
  crl?: string[]
  /** `closed` (default) or `open`: what a CRL past its nextUpdate does. */
  staleCrl?: string
  /** Print the verdict as JSON: `{verdict, id?, failures: [{code, message}], warnings}`. */
  json?: boolean
}

/**
 * `verify CHAIN_PEM`: the verdict on an X.509-SVID chain against the bundles given. Prints
 * `accept <spiffe-id>` and returns 0, or one `reject: <rule broken> (<code>)` line per broken
 * rule (every one, not only the first) and returns 1 (`json`: the same verdict as one JSON object). Bad arguments or unreadable input throw a coded error (exit 2).
 */
export async function runVerify (opts: VerifyCommandOptions, out: CommandOutput, clock: Clock = systemClock): Promise<number> {
  if (opts.role !== 'server' && opts.role !== 'client') {
    throw cliError('ERR_SPIFFE_CLI_ROLE', `--role must be server or client, got ${quote(opts.role)}`, { at: '--role' })
  }
  const now = nowOption(opts.now, clock)
  const bundles = await loadBundles(opts.bundle, opts.trustConfig)
  const chain = readChain(await readFileBytes(opts.chain, 'certificate chain'), opts.chain)
  const staleCrl = STALE_CRL_POLICIES.find((p) => p === (opts.staleCrl ?? 'fail-closed'))
  if (staleCrl === undefined) {
    throw cliError('ERR_SPIFFE_CLI_STALE_CRL', `--stale-crl must be ${oneOfText(STALE_CRL_POLICIES)}, got ${quote(opts.staleCrl)}`, { at: '--stale-crl' })
  }
  const lists = await loadCrls(opts.crl ?? [], [...[...bundles].flatMap((b) => b.authorities), ...chain.slice(1)])
  const audit = auditX509Svid(chain, bundles, { role: opts.role, now, ...(lists.length === 0 ? {} : { revocation: { lists, staleCrl } }) })
  if (opts.json === true) {
    const failures = audit.failures.map((f) => ({ code: f.code, message: f.message }))
    const id = audit.failures.length === 0 ? audit.id?.toString() : undefined
    out.stdout.write(`${JSON.stringify({ verdict: failures.length === 0 ? 'accept' : 'reject', ...(id === undefined ? {} : { id }), failures, warnings: audit.warnings }, null, 2)}\n`)
  } else {
    for (const w of audit.warnings) out.stderr.write(`warning: ${w}\n`)
    for (const line of verdictLines(audit.failures, audit.id?.toString())) out.stdout.write(`${line}\n`)
  }
  return audit.failures.length === 0 ? EXIT.OK : EXIT.FAILED
}
