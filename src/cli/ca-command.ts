import { Command } from 'commander'
import { randomBytes } from 'node:crypto'
import { access, mkdir, open, readFile, rename, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { parseDuration } from '../config/values.ts'
import { systemClock, type Clock } from '../internal/clock.ts'
import { SpiffeLbError, isSpiffeLbError, quote } from '../internal/errors.ts'
import {
  createRootCa, createSubordinateCa, loadCertificateAuthority, parseKeyAlgorithm, subjectText,
  type CaOptions, type CertificateAuthority, type KeyAlgorithm
} from '../pki/index.ts'
import type { CommandOutput } from './config-check.ts'
import { EXIT } from './program.ts'

/** File names of a CA directory (like a CA Service CA: its cert, key, chain and root). */
export const CA_FILES = { cert: 'ca.pem', key: 'ca.key.pem', chain: 'chain.pem', root: 'root.pem' } as const

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

/** Returns the text of `path`; throws `ERR_SPIFFE_CLI_READ_FILE` naming the file and `what` it is. */
export async function readTextFile (path: string, what: string): Promise<string> {
  try {
    return await readFile(path, 'utf8')
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code ?? String(err)
    throw new SpiffeLbError('ERR_SPIFFE_CLI_READ_FILE', `cannot read ${what} ${quote(path)}: ${reason}`, { at: path, cause: err })
  }
}

/**
 * Writes `data` to `path` atomically: a temporary file in the same directory, created with
 * `mode` (so a key is never readable by others, not even briefly), flushed, then renamed over
 * `path`. A reader sees the old file or the new one, never half of one.
 */
export async function writeFileAtomic (path: string, data: string, mode: number): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`
  try {
    const fh = await open(tmp, 'wx', mode)
    try {
      await fh.writeFile(data)
      await fh.sync()
    } finally {
      await fh.close()
    }
    await rename(tmp, path)
  } catch (err) {
    await rm(tmp, { force: true })
    throw new SpiffeLbError('ERR_SPIFFE_CLI_WRITE_FILE', `cannot write ${quote(path)}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, { at: path, cause: err })
  }
}

/** Returns the CA stored in `dir` by `ca create-root` / `ca create-subordinate`. */
export async function loadCaDir (dir: string): Promise<CertificateAuthority> {
  const certPem = await readTextFile(join(dir, CA_FILES.cert), 'ca certificate')
  const keyPem = await readTextFile(join(dir, CA_FILES.key), 'ca private key')
  const optional = async (name: string): Promise<string> => {
    const path = join(dir, name)
    return await access(path).then(async () => await readTextFile(path, 'ca parent certificates'), () => '')
  }
  const parents = (await optional(CA_FILES.chain)) + (await optional(CA_FILES.root))
  try {
    return loadCertificateAuthority(certPem, keyPem, parents)
  } catch (err) {
    if (!isSpiffeLbError(err)) throw err
    throw new SpiffeLbError(err.code, `ca directory ${quote(dir)}: ${err.message}`, { at: dir, cause: err })
  }
}

/** Returns `--key-algorithm` parsed (ours or gcloud's names), or undefined for the default. */
export function keyAlgorithmOption (value: string | undefined): KeyAlgorithm | undefined {
  if (value === undefined) return undefined
  try {
    return parseKeyAlgorithm(value)
  } catch (err) {
    if (!isSpiffeLbError(err)) throw err
    throw new SpiffeLbError(err.code, `--key-algorithm: ${err.message}`, { at: '--key-algorithm' })
  }
}

/** Returns a `--lifetime` like `86400s` in ms. */
export function lifetimeOption (value: string): number {
  try {
    const ms = parseDuration(value)
    if (ms >= 1000) return ms
  } catch (err) {
    if (!isSpiffeLbError(err)) throw err
  }
  throw new SpiffeLbError('ERR_SPIFFE_CLI_LIFETIME', `--lifetime must be seconds with an "s" suffix, at least "1s", like "86400s", got ${quote(value)}`, { at: '--lifetime' })
}

function caOptions (opts: CaCommandOptions, defaultSubject: string): CaOptions {
  const keyAlgorithm = keyAlgorithmOption(opts.keyAlgorithm)
  let maxChainLength: number | undefined
  if (opts.maxChainLength !== undefined) {
    maxChainLength = /^\d{1,3}$/.test(opts.maxChainLength) ? Number(opts.maxChainLength) : NaN
    if (Number.isNaN(maxChainLength)) {
      throw new SpiffeLbError('ERR_SPIFFE_CLI_MAX_CHAIN_LENGTH', `--max-chain-length must be a non-negative integer, got ${quote(opts.maxChainLength)}`, { at: '--max-chain-length' })
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
  const parent = opts.parent === undefined ? undefined : await loadCaDir(opts.parent)
  const caOpts = { ...caOptions(opts, parent === undefined ? 'CN=spiffe-lb Root CA, O=spiffe-lb' : 'CN=spiffe-lb Subordinate CA, O=spiffe-lb'), notBefore: clock.now() }
  const keyPath = join(opts.out, CA_FILES.key)
  if (opts.force !== true && await access(keyPath).then(() => true, () => false)) {
    throw new SpiffeLbError('ERR_SPIFFE_CLI_CA_EXISTS', `${quote(keyPath)} already exists; use --force to replace the ca`, { at: keyPath })
  }
  const ca = parent === undefined ? await createRootCa(caOpts) : await createSubordinateCa(parent, caOpts)
  await mkdir(opts.out, { recursive: true })
  const files: Array<[string, string, number]> = [[CA_FILES.cert, ca.certPem, 0o644], [CA_FILES.key, ca.keyPem, 0o600]]
  if (parent !== undefined) files.push([CA_FILES.chain, ca.chainPem, 0o644], [CA_FILES.root, ca.rootPem, 0o644])
  for (const [name, data, mode] of files) {
    await writeFileAtomic(join(opts.out, name), data, mode)
    out.stdout.write(`wrote ${join(opts.out, name)} (mode ${mode.toString(8).padStart(4, '0')})\n`)
  }
  const pathLen = ca.maxChainLength === undefined ? 'unlimited' : String(ca.maxChainLength)
  out.stdout.write(`${parent === undefined ? 'root' : 'subordinate'} ca ${quote(subjectText(ca.cert))}: ${ca.keyAlgorithm}, ` +
    `max chain length ${pathLen}, valid until ${ca.cert.validToDate.toISOString()}, sha256 ${ca.cert.fingerprint256}\n`)
  return EXIT.OK
}

function addCaOptions (cmd: Command, lifetime: string): Command {
  return cmd
    .requiredOption('--out <dir>', 'directory to write ca.pem and ca.key.pem into')
    .option('--subject <dn>', 'subject, like gcloud\'s --subject: "CN=Demo Root CA, O=Demo"')
    .option('--key-algorithm <alg>', 'ECDSA_P256 (default), ECDSA_P384, RSA_2048, RSA_3072, RSA_4096, or a gcloud name (ec-p256-sha256 …)')
    .option('--max-chain-length <n>', 'basicConstraints pathLen: how many subordinate CAs may follow')
    .option('--lifetime <duration>', 'validity, seconds with an "s" suffix', lifetime)
    .option('--force', 'replace an existing CA in --out')
}

/** Registers `ca create-root` and `ca create-subordinate` (local CA pool management, like `gcloud privateca`). */
export function registerCaCommand (program: Command): void {
  const ca = program.command('ca').description('create a local root or subordinate CA (like gcloud privateca roots/subordinates create)')
  const output = { stdout: process.stdout, stderr: process.stderr }
  addCaOptions(ca.command('create-root').description('create a self-signed root CA in --out'), '315360000s')
    .action(async (opts: CaCommandOptions) => { process.exitCode = await runCaCreate(opts, output) })
  addCaOptions(ca.command('create-subordinate').description('create a CA signed by the CA in --parent; also writes chain.pem and root.pem'), '315360000s')
    .requiredOption('--parent <dir>', 'directory of the parent CA')
    .action(async (opts: CaCommandOptions) => { process.exitCode = await runCaCreate(opts, output) })
}
