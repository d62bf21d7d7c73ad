import { realpath } from 'node:fs/promises'
import { join } from 'node:path'
import { quote } from '../internal/errors.ts'
import { BundleSet } from '../spiffe/bundle-set.ts'
import { parseTrustBundlesMap } from '../spiffe/trust-stores.ts'
import type { TrustDomain } from '../spiffe/trust-domain.ts'
import { X509Bundle } from '../spiffe/x509-bundle.ts'
import { X509Svid } from '../spiffe/x509-svid.ts'
import { GCE_FILES, assertConfigStatusClean } from './gce-files.ts'
import { assertKeyFileSafe } from './key-file-mode.ts'
import { readCredentialFile } from './read-file.ts'
import { parseStrictJson } from './strict-json.ts'
import type { CredentialCandidate } from './validate-credentials.ts'
import { credentialsError } from './errors.ts'

/**
 * Reads one candidate from a directory in the GCE guest-agent layout (see {@link GCE_FILES}).
 * The directory is resolved once (it is usually a symlink the agent swaps) and every file is
 * read from that one target, so all files belong to the same generation; if the symlink moved
 * while reading, the read is refused and the caller reads again.
 * Every file goes through the bounded {@link readCredentialFile}; a private key writable by
 * others is refused. Throws a coded error naming the file; a non-empty `config_status` is an
 * error too.
 */
export async function readCredentialDirectory (dir: string, own: TrustDomain): Promise<CredentialCandidate & { target: string }> {
  const target = await resolve(dir)
  const path = (name: string): string => join(dir, name)
  const read = async (name: string): Promise<string | undefined> => {
    const file = await readCredentialFile(join(target, name))
    if (file !== undefined && name === GCE_FILES.privateKey) assertKeyFileSafe(path(name), file.mode)
    return file?.text
  }
  const [status, chainPem, keyPem, caPem, trustJson] = await Promise.all([
    read(GCE_FILES.configStatus), read(GCE_FILES.certificates), read(GCE_FILES.privateKey),
    read(GCE_FILES.caCertificates), read(GCE_FILES.trustBundles)
  ])
  if (await resolve(dir) !== target) {
    throw credentialsError('ERR_SPIFFE_CREDENTIALS_DIRECTORY_CHANGED',
      `directory ${quote(dir)} was swapped while it was being read`, { at: dir })
  }
  if (status !== undefined) assertConfigStatusClean(status, path(GCE_FILES.configStatus))
  if (chainPem === undefined || keyPem === undefined) {
    const missing = chainPem === undefined ? GCE_FILES.certificates : GCE_FILES.privateKey
    throw credentialsError('ERR_SPIFFE_CREDENTIALS_FILE_MISSING',
      `credential file ${quote(path(missing))} does not exist (not provisioned yet?)`, { at: path(missing) })
  }
  const svid = X509Svid.fromPem(chainPem, keyPem, path(GCE_FILES.certificates))
  let bundles = trustJson === undefined
    ? BundleSet.of([])
    : parseTrustBundlesMap(parseStrictJson(trustJson, path(GCE_FILES.trustBundles)), path(GCE_FILES.trustBundles))
  if (caPem !== undefined && caPem.trim() !== '') {
    // ca_certificates.pem holds the own domain's anchors; trust_bundles.json may repeat them.
    bundles = bundles.merged(X509Bundle.fromPem(own, caPem, path(GCE_FILES.caCertificates)))
  }
  return { svid, bundles, target }
}

async function resolve (dir: string): Promise<string> {
  try {
    return await realpath(dir)
  } catch (err) {
    throw credentialsError('ERR_SPIFFE_CREDENTIALS_DIRECTORY_MISSING',
      `credential directory ${quote(dir)} does not exist (${(err as NodeJS.ErrnoException).code ?? 'error'})`, { at: dir, cause: err })
  }
}
