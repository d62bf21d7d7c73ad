import { X509Certificate } from 'node:crypto'
import { parse as parseYaml } from 'yaml'
import { systemClock, type Clock } from '../internal/clock.ts'
import { isSpiffeLbError, quote, withContext as addContext } from '../internal/errors.ts'
import { parsePem } from '../internal/pem.ts'
import {
  BundleSet, TrustDomain, X509Bundle, parseSpiffeBundleMap, parseSpiffeTrustStores, parseTrustBundlesMap,
  verifyX509Svid
} from '../spiffe/index.ts'
import { readTextFile } from './read-text-file.ts'
import type { CommandOutput } from './command-output.ts'
import { nowOption } from './inspect.ts'
import { EXIT } from './command-output.ts'
import { serverError } from './errors.ts'

/** Options of `verify`, as commander parses them. */
export interface VerifyCommandOptions {
  chain: string
  bundle: string[]
  trustConfig: string[]
  role: string
  now?: string
}

const isMap = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)

/**
 * Returns the bundles of a trust document, detecting its shape: a Certificate Manager trust
 * config (`spiffeTrustStores`), a pool's `inlineTrustConfig.additionalTrustBundles`, GCE's
 * `trust_bundles.json` (`trust_domains`), or a bare map of trust domain to either
 * `{trustAnchors}` or a SPIFFE bundle (`{keys}`).
 */
export function parseTrustDocument (doc: unknown, file: string): BundleSet {
  if (isMap(doc)) {
    if (Object.hasOwn(doc, 'spiffeTrustStores')) return parseSpiffeTrustStores(doc, file)
    if (Object.hasOwn(doc, 'trust_domains')) return parseTrustBundlesMap(doc, file)
    const inline = doc.inlineTrustConfig
    if (isMap(inline) && Object.hasOwn(inline, 'additionalTrustBundles')) {
      return parseSpiffeTrustStores(inline.additionalTrustBundles, `${file}: inlineTrustConfig.additionalTrustBundles`)
    }
    const values = Object.values(doc)
    if (values.length > 0 && values.every((v) => isMap(v) && Object.hasOwn(v, 'trustAnchors'))) return parseSpiffeTrustStores(doc, file)
    if (values.length > 0 && values.every((v) => isMap(v) && Object.hasOwn(v, 'keys'))) return parseSpiffeBundleMap(doc, file)
  }
  throw serverError('ERR_SPIFFE_CLI_TRUST_CONFIG_SHAPE',
    `${quote(file)} is not a trust config: expected spiffeTrustStores, trust_domains (trust_bundles.json), ` +
    'inlineTrustConfig.additionalTrustBundles, or a map of trust domain to {trustAnchors} or to a SPIFFE bundle {keys}', { at: file })
}

/** Returns every bundle named by `--bundle TD=FILE` and `--trust-config FILE`, one per trust domain. */
export async function loadBundles (bundleArgs: readonly string[], trustConfigs: readonly string[]): Promise<BundleSet> {
  const bundles: X509Bundle[] = []
  for (const arg of bundleArgs) {
    const eq = arg.indexOf('=')
    if (eq <= 0 || eq === arg.length - 1) {
      throw serverError('ERR_SPIFFE_CLI_BUNDLE_ARG', `--bundle must be TRUST_DOMAIN=PEM_FILE, got ${quote(arg)}`, { at: '--bundle' })
    }
    const file = arg.slice(eq + 1)
    const td = withContext(`--bundle ${quote(arg)}`, () => TrustDomain.fromString(arg.slice(0, eq)))
    const pem = await readTextFile(file, 'trust bundle')
    bundles.push(withContext(quote(file), () => X509Bundle.fromPem(td, pem, file)))
  }
  for (const file of trustConfigs) {
    const text = await readTextFile(file, 'trust config')
    let doc: unknown
    try {
      doc = parseYaml(text) // YAML is a superset of JSON: one parser for both.
    } catch (err) {
      throw serverError('ERR_SPIFFE_CLI_TRUST_CONFIG_SYNTAX', `${quote(file)} is neither YAML nor JSON: ${(err as Error).message.split('\n')[0] ?? ''}`, { at: file, cause: err })
    }
    bundles.push(...parseTrustDocument(doc, file))
  }
  if (bundles.length === 0) {
    throw serverError('ERR_SPIFFE_CLI_NO_BUNDLES', 'no trust bundles: give --bundle TRUST_DOMAIN=PEM_FILE or --trust-config FILE')
  }
  // A domain given twice is an error, even across sources: two answers to "who vouches for
  // this domain" is a conflict to fix, not to merge silently.
  return BundleSet.of(bundles)
}

function withContext<T> (context: string, fn: () => T): T {
  try {
    return fn()
  } catch (err) {
    if (!isSpiffeLbError(err)) throw err
    throw addContext(err, `${context}: ${err.message}`, { ...(err.at === undefined ? {} : { at: err.at }), cause: err })
  }
}

/** Returns the certificates of a chain file (other PEM blocks, such as a key, are ignored). */
export function readChain (pem: string, file: string): X509Certificate[] {
  const blocks = parsePem(pem, file).filter((b) => b.type === 'CERTIFICATE')
  if (blocks.length === 0) throw serverError('ERR_SPIFFE_CLI_NO_CERTIFICATE', `${quote(file)} holds no PEM "CERTIFICATE" block`, { at: file })
  return blocks.map((b, i) => {
    try {
      return new X509Certificate(b.der)
    } catch (err) {
      throw serverError('ERR_SPIFFE_CLI_BAD_CERTIFICATE', `${quote(file)}: certificate ${i + 1} does not parse as x.509`, { at: file, cause: err })
    }
  })
}

/**
 * `verify CHAIN_PEM`: the verdict on an X.509-SVID chain against the bundles given. Prints
 * `accept <spiffe-id>` and returns 0, or `reject: <rule broken> (<code>)` and returns 1. Bad
 * arguments or unreadable input throw a coded error (exit 2).
 */
export async function runVerify (opts: VerifyCommandOptions, out: CommandOutput, clock: Clock = systemClock): Promise<number> {
  if (opts.role !== 'server' && opts.role !== 'client') {
    throw serverError('ERR_SPIFFE_CLI_ROLE', `--role must be server or client, got ${quote(opts.role)}`, { at: '--role' })
  }
  const now = nowOption(opts.now, clock)
  const bundles = await loadBundles(opts.bundle, opts.trustConfig)
  const chain = readChain(await readTextFile(opts.chain, 'certificate chain'), opts.chain)
  try {
    const verified = verifyX509Svid(chain, bundles, { role: opts.role, now })
    out.stdout.write(`accept ${verified.id.toString()}\n`)
    return EXIT.OK
  } catch (err) {
    if (!isSpiffeLbError(err)) throw err
    out.stdout.write(`reject: ${err.message} (${err.code})\n`)
    return EXIT.FAILED
  }
}
