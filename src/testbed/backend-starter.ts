import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { Logger } from 'pino'
import { RevocationFeed } from '../credentials/revocation-feed.ts'
import { systemClock } from '../internal/clock.ts'
import { createDirectorySource } from '../credentials/directory-source.ts'
import { GCE_FILES } from '../credentials/gce-files.ts'
import { parseWorkloadApiEndpoint } from '../credentials/workload-api-endpoint.ts'
import { createWorkloadApiSource, defaultSvidId } from '../credentials/workload-api-source.ts'
import type { CredentialSource } from '../credentials/credential-source.ts'
import { CredentialStore } from '../credentials/store.ts'
import { formatHostPort } from '../internal/host-port.ts'
import { quote, restoreError } from '../internal/errors.ts'
import { BundleSet } from '../spiffe/bundle-set.ts'
import { SpiffeId } from '../spiffe/spiffe-id.ts'
import { TrustDomain } from '../spiffe/trust-domain.ts'
import { X509Bundle } from '../spiffe/x509-bundle.ts'
import { X509Svid } from '../spiffe/x509-svid.ts'
import { startEchoBackend } from './echo-backend.ts'
import type { EchoBackend } from './echo-backend.ts'
import type { CommandOutput } from '../process/command-output.ts'
import { commandLogger, lifecycle } from '../process/command-log.ts'
import { cliError } from '../process/errors.ts'

/** Options of `spiffe-lb backend` (docs/architecture.md#process-model). */
export interface BackendCommandOptions {
  listen: string
  /** A directory in the GCE layout (certificates.pem, private_key.pem, ca_certificates.pem, trust_bundles.json). */
  credentialsDir?: string | undefined
  /** A SPIFFE Workload API (`unix:///path`, `tcp://IP:port`): the default SVID and every bundle, followed. */
  workloadApi?: string | undefined
  cert?: string | undefined
  key?: string | undefined
  /** `TD=FILE` pairs: PEM trust anchors of one trust domain each. */
  bundle?: string[] | undefined
  allowId?: string[] | undefined
  allowTrustDomain?: string[] | undefined
  /** `TD=FILE` pairs: a CRL of one trust domain each; revoked clients are refused. */
  crl?: string[] | undefined
  name?: string | undefined
}

/** A started backend with its credential plumbing. */
export interface RunningBackend {
  backend: EchoBackend
  store: CredentialStore
  /** Re-reads the credentials now (SIGHUP). */
  reload: () => Promise<void>
  /** Graceful stop: the listener, the connections, the credential source. */
  stop: () => Promise<void>
}

/**
 * Loads the credentials, starts the echo backend and logs `listening on HOST:PORT as ID` (on
 * `out.log`, the command's one log output).
 * Credentials come from `--credentials-dir` (followed by the directory source: rotations are
 * picked up), from `--workload-api` (a SPIFFE Workload API stream: rotations are pushed) or from `--cert/--key/--bundle` files (read again by `reload`). Throws a coded
 * error for bad options or credentials.
 */
export async function startBackendCommand (opts: BackendCommandOptions, out: CommandOutput): Promise<RunningBackend> {
  const log = opts.name === undefined ? commandLogger(out) : commandLogger(out).child({ backend: opts.name })
  const { store, source } = await loadCredentials(opts)
  store.onAttempt((o) => {
    if (o.error !== undefined) log.warn({ code: o.error.code, where: o.error.where }, `credentials not reloaded: ${o.error.message}`)
  })
  store.subscribe((s) => {
    const notAfter = new Date(s.svid.notAfter).toISOString()
    log.info({ spiffeId: s.svid.id.toString(), serial: s.svid.leaf.serialNumber, notAfter, generation: s.generation, svidGeneration: s.svidGeneration, bundleGeneration: s.bundleGeneration },
      `credentials reloaded: ${s.svid.id.toString()} serial ${s.svid.leaf.serialNumber}, not after ${notAfter}, generation ${s.generation}`)
  })
  const revocation = await startCrls(opts.crl ?? [], store, source, log)
  const backend = await startEchoBackend({
    listen: opts.listen,
    snapshots: store,
    allowIds: (opts.allowId ?? []).map((s) => SpiffeId.fromString(s)),
    allowTrustDomains: (opts.allowTrustDomain ?? []).map((s) => TrustDomain.fromString(s)),
    ...(opts.name === undefined ? {} : { name: opts.name }),
    onEvent: (e) => {
      if (e.type === 'rejected') log.warn({ remote: e.remote, code: e.code, reason: e.reason, resumed: e.resumed }, `client refused: ${e.message}`)
      else log.debug({ remote: e.remote, peer: e.peer, resumed: e.resumed }, 'client accepted')
    }
  })
  const address = formatHostPort(backend.host, backend.port)
  lifecycle(log).info({ address, spiffeId: store.identity.toString() }, `listening on ${address} as ${store.identity.toString()}`)
  return {
    backend,
    store,
    reload: async () => { await source.refresh() },
    stop: async () => { revocation?.stop(); await Promise.all([backend.close(), source.stop()]) }
  }
}

/**
 * Returns the CRL feed of `--crl TD=FILE` pairs put in force in `store` (the same checks as the
 * proxy's: verified by the domain's CA, stale fails closed), or undefined without any; stops
 * `source` and throws when a CRL cannot be used.
 */
async function startCrls (args: readonly string[], store: CredentialStore, source: CredentialSource, log: Logger): Promise<RevocationFeed | undefined> {
  if (args.length === 0) return undefined
  const byDomain = new Map<string, string[]>()
  for (const arg of args) {
    const { td, file } = parseTdFileArg(arg, '--crl', 'TRUST_DOMAIN=CRL_FILE')
    byDomain.set(td.name, [...(byDomain.get(td.name) ?? []), file])
  }
  const feed = new RevocationFeed([...byDomain].map(([trustDomain, files]) => ({ trustDomain, files, urls: [], staleCrl: 'fail-closed' as const })), store,
    { clock: systemClock, warn: (message) => { log.warn(message) } })
  try {
    await feed.start()
  } catch (err) {
    feed.stop()
    await source.stop()
    throw err
  }
  return feed
}

async function loadCredentials (opts: BackendCommandOptions): Promise<{ store: CredentialStore, source: CredentialSource }> {
  const files = opts.cert !== undefined || opts.key !== undefined || (opts.bundle ?? []).length > 0
  const given = [opts.credentialsDir !== undefined, opts.workloadApi !== undefined, files].filter(Boolean).length
  if (given !== 1) {
    throw cliError('ERR_SPIFFE_CLI_BACKEND_CREDENTIALS',
      'give exactly one of --credentials-dir DIR, --workload-api ADDRESS, or --cert FILE --key FILE --bundle TD=FILE…', { at: 'backend' })
  }
  if (opts.workloadApi !== undefined) {
    // The workload takes the identity the Workload API gives it (its default SVID); the store
    // then pins it, so a later message with another ID is refused.
    const endpoint = parseWorkloadApiEndpoint(opts.workloadApi, '--workload-api')
    const store = new CredentialStore({ identity: SpiffeId.fromString(await defaultSvidId(endpoint)) })
    const source = createWorkloadApiSource({ endpoint: opts.workloadApi })
    return await started(store, source, opts.workloadApi)
  }
  let source: CredentialSource
  let certFile: string
  let keyFile: string
  if (opts.credentialsDir !== undefined) {
    certFile = join(opts.credentialsDir, GCE_FILES.certificates)
    keyFile = join(opts.credentialsDir, GCE_FILES.privateKey)
    source = createDirectorySource({ dir: opts.credentialsDir })
  } else {
    if (opts.cert === undefined || opts.key === undefined || (opts.bundle ?? []).length === 0) {
      throw cliError('ERR_SPIFFE_CLI_BACKEND_CREDENTIALS',
        '--cert, --key and at least one --bundle TD=FILE are required together', { at: 'backend' })
    }
    certFile = opts.cert
    keyFile = opts.key
    source = fileSource(opts.cert, opts.key, (opts.bundle ?? []).map(parseBundleArg))
  }
  // The store pins the identity: a credential update that changes the backend's ID is refused.
  const first = X509Svid.fromPem(await readText(certFile), await readText(keyFile), certFile)
  return await started(new CredentialStore({ identity: first.id }), source, certFile)
}

/** Starts `source` into `store`; throws its error when the first attempt gave no usable credentials. */
async function started (store: CredentialStore, source: CredentialSource, at: string): Promise<{ store: CredentialStore, source: CredentialSource }> {
  await source.start(store)
  if (store.current() === undefined) {
    await source.stop()
    const e = store.lastError
    if (e !== undefined) throw restoreError(e, { at: e.where ?? at })
    throw cliError('ERR_SPIFFE_CLI_BACKEND_CREDENTIALS', 'no usable credentials', { at })
  }
  return { store, source }
}

/** A credential source reading static files; `refresh` reads them again. */
function fileSource (certFile: string, keyFile: string, bundles: Array<{ td: TrustDomain, file: string }>): CredentialSource {
  let target: CredentialStore | undefined
  const load = async (store: CredentialStore): Promise<void> => {
    await store.attempt('files', async () => ({
      svid: X509Svid.fromPem(await readText(certFile), await readText(keyFile), certFile),
      bundles: BundleSet.of(await Promise.all(bundles.map(async (b) => X509Bundle.fromPem(b.td, await readText(b.file), b.file))))
    }))
  }
  return {
    name: 'files',
    start: async (store) => { target = store; await load(store) },
    refresh: async () => { if (target !== undefined) await load(target) },
    stop: async () => { target = undefined }
  }
}

function parseBundleArg (arg: string): { td: TrustDomain, file: string } {
  return parseTdFileArg(arg, '--bundle', 'TRUST_DOMAIN=PEM_FILE')
}

function parseTdFileArg (arg: string, flag: string, form: string): { td: TrustDomain, file: string } {
  const eq = arg.indexOf('=')
  if (eq <= 0 || eq === arg.length - 1) {
    throw cliError('ERR_SPIFFE_CLI_BAD_BUNDLE_ARG', `${flag} ${quote(arg)} must be ${form}`, { at: flag })
  }
  return { td: TrustDomain.fromString(arg.slice(0, eq)), file: arg.slice(eq + 1) }
}

async function readText (file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8')
  } catch (err) {
    throw cliError('ERR_SPIFFE_CLI_FILE_UNREADABLE', `cannot read ${quote(file)}: ${(err as Error).message}`, { at: file, cause: err })
  }
}

