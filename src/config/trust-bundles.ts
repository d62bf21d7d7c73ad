import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { quote } from '../internal/errors.ts'
import { BundleSet } from '../spiffe/bundle-set.ts'
import { TrustDomain } from '../spiffe/trust-domain.ts'
import { X509Bundle } from '../spiffe/x509-bundle.ts'
import type { ConfigPath, IssueList } from './issues.ts'
import type { RawTrustStoreMap } from './schema.ts'
import { configError } from './errors.ts'

/**
 * Returns `pem` with literal `\n` sequences turned into newlines: gcloud prints one-line PEMs
 * that way (seeds: trust-configs describe), and users paste them as they are.
 */
export function unescapePem (pem: string): string {
  return pem.includes('\\n') ? pem.replace(/\\n/g, '\n') : pem
}

/**
 * Returns the bundles of a `trust domain → { trustAnchors }` map (`additionalTrustBundles`, or
 * `spiffeTrustStores` pasted from a trust config): one bundle per domain, never pooled
 * (docs/architecture.md#security-model). Each anchor is an inline `pemCertificate` or a `pemFile` relative to
 * `baseDir`. Records every problem in `list` under its path and leaves bad entries out.
 */
export function resolveTrustStores (map: RawTrustStoreMap, path: ConfigPath, baseDir: string, list: IssueList): BundleSet {
  const bundles = new Map<string, X509Bundle>()
  const keyOf = new Map<string, string>()
  for (const [key, store] of Object.entries(map)) {
    const at = [...path, key]
    let td: TrustDomain
    try {
      td = TrustDomain.fromString(key)
    } catch (err) {
      list.addError(at, 'ERR_SPIFFE_CONFIG_TRUST_DOMAIN', `${quote(key)} is not a valid trust domain`, err)
      continue
    }
    const first = keyOf.get(td.name)
    if (first !== undefined) {
      list.add(at, 'ERR_SPIFFE_CONFIG_DUPLICATE_TRUST_DOMAIN',
        `trust domain ${quote(td.name)} is already listed as ${quote(first)}; a bundle map has one entry per domain`)
      continue
    }
    keyOf.set(td.name, key)
    // A domain fetched from its bundle endpoint is resolved by resolveBundleEndpoints.
    if (store.bundleEndpoint !== undefined && store.trustAnchors === undefined) continue
    if (store.trustAnchors === undefined) {
      list.add([...at, 'trustAnchors'], 'ERR_SPIFFE_CONFIG_REQUIRED', 'is required (or, instead, a "bundleEndpoint")')
      continue
    }
    if (store.bundleEndpoint !== undefined) {
      list.add([...at, 'bundleEndpoint'], 'ERR_SPIFFE_CONFIG_BUNDLE_ENDPOINT_WITH_ANCHORS',
        `trust domain ${quote(td.name)} has both "trustAnchors" and "bundleEndpoint"; give one source of its bundle`)
      continue
    }
    if (store.trustAnchors.length === 0) {
      list.add([...at, 'trustAnchors'], 'ERR_SPIFFE_CONFIG_EMPTY', 'must not be empty')
      continue
    }
    let bundle: X509Bundle | undefined
    store.trustAnchors.forEach((anchor, i) => {
      const anchorAt = [...at, 'trustAnchors', i]
      const pem = anchorPem(anchor, anchorAt, baseDir, list)
      if (pem === undefined) return
      try {
        const parsed = X509Bundle.fromPem(td, unescapePem(pem.text), pem.source)
        if (parsed.authorities.length === 0) throw configError('ERR_SPIFFE_CONFIG_TRUST_ANCHOR_INVALID', 'trust anchor is not a usable pem certificate: no certificate in it')
        bundle = bundle === undefined ? parsed : bundle.withAuthorities(parsed.authorities)
      } catch (err) {
        list.addError([...anchorAt, pem.field], 'ERR_SPIFFE_CONFIG_TRUST_ANCHOR_INVALID', 'trust anchor is not a usable pem certificate', err)
      }
    })
    if (bundle !== undefined) bundles.set(td.name, bundle)
  }
  return BundleSet.of(bundles.values())
}

/** Returns an anchor's PEM text, reading `pemFile`; records a problem and returns undefined otherwise. */
function anchorPem (anchor: { pemCertificate?: string | undefined, pemFile?: string | undefined },
  at: ConfigPath, baseDir: string, list: IssueList): { text: string, source: string, field: string } | undefined {
  if ((anchor.pemCertificate === undefined) === (anchor.pemFile === undefined)) {
    list.add(at, 'ERR_SPIFFE_CONFIG_TRUST_ANCHOR_SOURCE', 'a trust anchor needs exactly one of "pemCertificate" or "pemFile"')
    return undefined
  }
  if (anchor.pemCertificate !== undefined) return { text: anchor.pemCertificate, source: 'pemCertificate', field: 'pemCertificate' }
  const file = resolve(baseDir, anchor.pemFile ?? '')
  try {
    return { text: readFileSync(file, 'utf8'), source: file, field: 'pemFile' }
  } catch (err) {
    const why = (err as NodeJS.ErrnoException).code ?? (err instanceof Error ? err.message : String(err))
    list.add([...at, 'pemFile'], 'ERR_SPIFFE_CONFIG_PEM_FILE', `cannot read pem file ${quote(file)}: ${why}`)
    return undefined
  }
}
