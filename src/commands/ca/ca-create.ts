import { access, mkdir } from 'node:fs/promises'
import { readTextFile } from '../../process/read-text-file.ts'
import { join } from 'node:path'
import { CA_FILES, loadCaDir } from '../../control/ca-layout.ts'
import { systemClock, type Clock } from '../../internal/clock.ts'
import { quote } from '../../internal/errors.ts'
import { createRootCa, createSubordinateCa, subjectText, type CaOptions } from '../../pki/index.ts'
import { keyAlgorithmOption, lifetimeOption, writeCertFile } from '../cert-options.ts'
import { EXIT, type CommandOutput } from '../../process/command-output.ts'
import { cliError } from '../../process/errors.ts'

/** Options of `ca create-root` / `ca create-subordinate`, as commander parses them. */
export interface CaCommandOptions {
  out: string
  parent?: string
  subject?: string
  keyAlgorithm?: string
  maxChainLength?: string
  lifetime: string
  force?: boolean
}

function caOptions (opts: CaCommandOptions, defaultSubject: string): CaOptions {
  const keyAlgorithm = keyAlgorithmOption(opts.keyAlgorithm)
  let maxChainLength: number | undefined
  if (opts.maxChainLength !== undefined) {
    maxChainLength = /^\d{1,3}$/.test(opts.maxChainLength) ? Number(opts.maxChainLength) : NaN
    if (Number.isNaN(maxChainLength)) {
      throw cliError('ERR_SPIFFE_CLI_MAX_CHAIN_LENGTH', `--max-chain-length must be a non-negative integer, got ${quote(opts.maxChainLength)}`, { at: '--max-chain-length' })
    }
  }
  return {
    subject: opts.subject ?? defaultSubject,
    lifetimeMs: lifetimeOption(opts.lifetime),
    ...(keyAlgorithm === undefined ? {} : { keyAlgorithm }),
    ...(maxChainLength === undefined ? {} : { maxChainLength })
  }
}

/**
 * `ca create-root` (no `parent`) or `ca create-subordinate`: creates the CA, writes its files
 * into `opts.out` and prints what it wrote. Refuses to replace an existing CA key without
 * `--force`. Returns the exit code.
 */
export async function runCaCreate (opts: CaCommandOptions, out: CommandOutput, clock: Clock = systemClock): Promise<number> {
  const parent = opts.parent === undefined ? undefined : await loadCaDir(opts.parent, readTextFile)
  const caOpts = { ...caOptions(opts, parent === undefined ? 'CN=spiffe-lb Root CA, O=spiffe-lb' : 'CN=spiffe-lb Subordinate CA, O=spiffe-lb'), notBefore: clock.now() }
  const keyPath = join(opts.out, CA_FILES.key)
  if (opts.force !== true && await access(keyPath).then(() => true, () => false)) {
    throw cliError('ERR_SPIFFE_CLI_CA_EXISTS', `${quote(keyPath)} already exists; use --force to replace the ca`, { at: keyPath })
  }
  const ca = parent === undefined ? await createRootCa(caOpts) : await createSubordinateCa(parent, caOpts)
  await mkdir(opts.out, { recursive: true })
  const files: Array<[string, string, number]> = [[CA_FILES.cert, ca.certPem, 0o644], [CA_FILES.key, ca.keyPem, 0o600]]
  if (parent !== undefined) files.push([CA_FILES.chain, ca.chainPem, 0o644], [CA_FILES.root, ca.rootPem, 0o644])
  for (const [name, data, mode] of files) {
    await writeCertFile(join(opts.out, name), data, mode)
    out.stdout.write(`wrote ${join(opts.out, name)} (mode ${mode.toString(8).padStart(4, '0')})\n`)
  }
  const pathLen = ca.maxChainLength === undefined ? 'unlimited' : String(ca.maxChainLength)
  out.stdout.write(`${parent === undefined ? 'root' : 'subordinate'} ca ${quote(subjectText(ca.cert))}: ${ca.keyAlgorithm}, ` +
    `max chain length ${pathLen}, valid until ${ca.cert.validToDate.toISOString()}, sha256 ${ca.cert.fingerprint256}\n`)
  return EXIT.OK
}

