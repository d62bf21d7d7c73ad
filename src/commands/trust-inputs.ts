import type { X509Certificate } from 'node:crypto'
import { parse as parseYaml } from 'yaml'
import { deriveResources, loadConfig, readDeriveInputs, type SpiffeLbConfig } from '../config/index.ts'
import { isSpiffeLbError, quote, withContext as addContext } from '../internal/errors.ts'
import {
  BundleSet, TrustDomain, X509Bundle, fingerprint, parseSpiffeBundleMap, parseSpiffeTrustStores, parseTrustBundlesMap
} from '../spiffe/index.ts'
import { readFile } from 'node:fs/promises'
import { readTextFile } from '../process/read-text-file.ts'
import { fileStateView } from '../control/disk-state-view.ts'
import { loadCrl } from '../pki/index.ts'
import { normalizeSerial, type RevocationList } from '../spiffe/index.ts'
import { cliError } from '../process/errors.ts'

// The trust and chain inputs shared by `verify` and `probe`: `--bundle TD=PEM`, `--trust-config`
// (any trust document, or a whole serving config) and PEM chains.

const isMap = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)

/** Returns true when `doc` is a spiffe-lb serving config rather than a trust document. */
function isServingConfig (doc: unknown): boolean {
  return isMap(doc) && (Object.hasOwn(doc, 'backendServices') || Object.hasOwn(doc, 'workloadIdentityPools'))
}

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
  throw cliError('ERR_SPIFFE_CLI_TRUST_CONFIG_SHAPE',
    `${quote(file)} is not a trust config: expected spiffeTrustStores, trust_domains (trust_bundles.json), ` +
    'inlineTrustConfig.additionalTrustBundles, a serving config, or a map of trust domain to {trustAnchors} or to a SPIFFE bundle {keys}', { at: file })
}

/**
 * Returns the trust stores a serving config verifies backends with: the derived trust config
 * (`mi-tc-…` `spiffeTrustStores`) of each backend service, or only of `service` when given. The
 * pool's own domain is read from what the control plane or the credentials left on disk (never
 * created); a domain whose anchors differ between two services is an error.
 */
export async function servingTrustStores (config: SpiffeLbConfig, service?: string): Promise<BundleSet> {
  const derived = deriveResources(config, await readDeriveInputs(config, fileStateView(config)))
    .filter((d) => service === undefined || d.backendService === service)
  const byDomain = new Map<string, X509Bundle>()
  for (const d of derived) {
    for (const bundle of d.trustConfig.bundles) {
      const seen = byDomain.get(bundle.trustDomain.name)
      if (seen === undefined) { byDomain.set(bundle.trustDomain.name, bundle); continue }
      const same = seen.authorities.map(fingerprint).sort().join() === bundle.authorities.map(fingerprint).sort().join()
      if (!same) {
        throw cliError('ERR_SPIFFE_CLI_TRUST_CONFIG_CONFLICT',
          `${quote(config.source)}: backend services trust different anchors for trust domain ${quote(bundle.trustDomain.name)}; name one service`, { at: config.source })
      }
    }
  }
  return BundleSet.of(byDomain.values())
}

/** Returns every bundle named by `--bundle TD=FILE` and `--trust-config FILE`, one per trust domain. */
export async function loadBundles (bundleArgs: readonly string[], trustConfigs: readonly string[]): Promise<BundleSet> {
  const bundles: X509Bundle[] = []
  for (const arg of bundleArgs) {
    const eq = arg.indexOf('=')
    if (eq <= 0 || eq === arg.length - 1) {
      throw cliError('ERR_SPIFFE_CLI_BUNDLE_ARG', `--bundle must be TRUST_DOMAIN=PEM_FILE, got ${quote(arg)}`, { at: '--bundle' })
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
      throw cliError('ERR_SPIFFE_CLI_TRUST_CONFIG_SYNTAX', `${quote(file)} is neither YAML nor JSON: ${(err as Error).message.split('\n')[0] ?? ''}`, { at: file, cause: err })
    }
    if (isServingConfig(doc)) bundles.push(...await servingTrustStores(await loadConfig(file)))
    else bundles.push(...parseTrustDocument(doc, file))
  }
  if (bundles.length === 0) {
    throw cliError('ERR_SPIFFE_CLI_NO_BUNDLES', 'no trust bundles: give --bundle TRUST_DOMAIN=PEM_FILE or --trust-config FILE')
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

/**
 * Returns the CRLs named by `--crl FILE`, each verified against the key of one of `issuers` (the
 * authorities of the bundles and the intermediates presented): a CRL no trusted CA signed is an
 * error, never silently ignored. Throws `ERR_SPIFFE_CLI_READ_FILE` or `ERR_SPIFFE_PKI_CRL_*`.
 */
export async function loadCrls (files: readonly string[], issuers: readonly X509Certificate[]): Promise<RevocationList[]> {
  const out: RevocationList[] = []
  for (const file of files) {
    let bytes: Buffer
    try {
      bytes = await readFile(file)
    } catch (err) {
      throw cliError('ERR_SPIFFE_CLI_READ_FILE', `cannot read crl ${quote(file)}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, { at: file, cause: err })
    }
    const crl = await loadCrl(bytes, file, issuers)
    out.push({
      issuerFingerprint: crl.issuer.fingerprint256,
      revokedSerials: new Set(crl.revokedSerials.map(normalizeSerial)),
      thisUpdate: crl.thisUpdate,
      nextUpdate: crl.nextUpdate,
      source: file
    })
  }
  return out
}
