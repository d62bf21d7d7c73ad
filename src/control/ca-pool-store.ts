import { X509Certificate, createPrivateKey, randomBytes } from 'node:crypto'
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { systemClock, type Clock } from '../internal/clock.ts'
import { SpiffeLbError, isSpiffeLbError, quote } from '../internal/errors.ts'
import { parsePem } from '../internal/pem.ts'
import { CA_FILES, caPoolDir, caPoolsDir } from './ca-layout.ts'
import { createRootCa, loadCertificateAuthority, type CertificateAuthority, type KeyAlgorithm } from '../pki/index.ts'
import { controlError } from './errors.ts'

/** How to create a pool's CA the first time it is used (mirrors `gcloud privateca roots create`). */
export interface CaPoolOptions {
  /** The control plane's state directory; the pool lives in `<stateDir>/ca-pools/<poolId>/`. */
  stateDir: string
  /** The CA pool ID (last segment of `projects/N/locations/R/caPools/ID`). */
  poolId: string
  subject: string
  keyAlgorithm?: KeyAlgorithm
  maxChainLength?: number
  lifetimeMs?: number
  clock?: Clock
}

/** A pool's CA and where it is stored. */
export interface CaPool {
  ca: CertificateAuthority
  dir: string
  certFile: string
  keyFile: string
  /** True when this call created the CA. */
  created: boolean
}

/**
 * Returns the pool's CA: loaded from `ca.pem` / `ca.key.pem` (plus `chain.pem` / `root.pem` for a
 * subordinate, the layout of `spiffe-lb ca create-*`) when they exist, otherwise created
 * with src/pki and stored (key 0600). Creation happens in a temporary directory renamed into
 * place, so a crash never leaves half a CA and two processes starting together agree on one.
 * Existing files are never replaced: a missing, truncated or garbage file (or a key that does
 * not match the certificate) is `ERR_SPIFFE_CONTROL_STATE_*` naming the file, because silently
 * minting a new root would invalidate every certificate and bundle already handed out.
 */
export async function openCaPool (opts: CaPoolOptions): Promise<CaPool> {
  return await open(opts, true)
}

async function open (opts: CaPoolOptions, mayRetry: boolean): Promise<CaPool> {
  const dir = caPoolDir(opts.stateDir, opts.poolId)
  const certFile = join(dir, CA_FILES.cert)
  const keyFile = join(dir, CA_FILES.key)
  const [certText, keyText, chainText, rootText] = await Promise.all(
    [certFile, keyFile, join(dir, CA_FILES.chain), join(dir, CA_FILES.root)].map(readOptional))
  if (certText !== undefined || keyText !== undefined) {
    // chain.pem / root.pem: the parents of a subordinate CA made with `ca create-subordinate`.
    const parents = `${chainText ?? ''}${rootText ?? ''}`
    return { ca: loadStored(certFile, certText, keyFile, keyText, parents), dir, certFile, keyFile, created: false }
  }
  const clock = opts.clock ?? systemClock
  const ca = await createRootCa({
    subject: opts.subject,
    notBefore: clock.now(),
    ...(opts.keyAlgorithm === undefined ? {} : { keyAlgorithm: opts.keyAlgorithm }),
    ...(opts.maxChainLength === undefined ? {} : { maxChainLength: opts.maxChainLength }),
    ...(opts.lifetimeMs === undefined ? {} : { lifetimeMs: opts.lifetimeMs })
  })
  const parent = caPoolsDir(opts.stateDir)
  await mkdir(parent, { recursive: true, mode: 0o700 })
  const tmp = join(parent, `.${opts.poolId}.tmp-${randomBytes(6).toString('hex')}`)
  await mkdir(tmp, { mode: 0o700 })
  try {
    await writeFile(join(tmp, CA_FILES.key), ca.keyPem, { mode: 0o600, flag: 'wx' })
    await writeFile(join(tmp, CA_FILES.cert), ca.certPem, { mode: 0o644, flag: 'wx' })
    await rename(tmp, dir)
  } catch (err) {
    await rm(tmp, { recursive: true, force: true })
    const code = (err as NodeJS.ErrnoException).code
    // Another process created the pool first (rename onto a non-empty directory): use theirs.
    if (mayRetry && (code === 'ENOTEMPTY' || code === 'EEXIST')) return await open(opts, false)
    throw controlError('ERR_SPIFFE_CONTROL_STATE_WRITE', `cannot store ca pool in ${quote(dir)}: ${(err as Error).message}`, { at: dir, cause: err })
  }
  return { ca, dir, certFile, keyFile, created: true }
}

function loadStored (certFile: string, certText: string | undefined, keyFile: string, keyText: string | undefined, parents: string): CertificateAuthority {
  if (certText === undefined || keyText === undefined) {
    const missing = certText === undefined ? certFile : keyFile
    throw controlError('ERR_SPIFFE_CONTROL_STATE_INCOMPLETE',
      `ca pool state file ${quote(missing)} is missing while its pair exists; restore it or remove the pool directory`, { at: missing })
  }
  try {
    const certs = parsePem(certText, certFile).filter((b) => b.type === 'CERTIFICATE')
    if (certs.length === 0) throw controlError('ERR_SPIFFE_CONTROL_STATE_CORRUPT', 'no CERTIFICATE block')
    for (const b of certs) new X509Certificate(b.der) // eslint-disable-line no-new
  } catch (err) {
    throw corrupt(certFile, err)
  }
  try {
    parsePem(keyText, keyFile)
    createPrivateKey(keyText)
  } catch (err) {
    throw corrupt(keyFile, err)
  }
  try {
    return loadCertificateAuthority(certText, keyText, parents)
  } catch (err) {
    throw corrupt(`${certFile} + ${keyFile}`, err)
  }
}

function corrupt (file: string, err: unknown): SpiffeLbError {
  const why = isSpiffeLbError(err) ? `${err.code}: ${err.message}` : (err as Error).message
  return controlError('ERR_SPIFFE_CONTROL_STATE_CORRUPT',
    `ca pool state file ${quote(file)} is not usable (half-written or corrupted?); it is never replaced automatically: ${why}`,
    { at: file, cause: err })
}

async function readOptional (file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw controlError('ERR_SPIFFE_CONTROL_STATE_UNREADABLE', `cannot read ${quote(file)}: ${(err as Error).message}`, { at: file, cause: err })
  }
}
