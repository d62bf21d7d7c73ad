import { isSpiffeLbError, quote, withContext } from '../internal/errors.ts'
import { describeContent } from '../internal/content-summary.ts'
import { parsePem } from '../internal/pem.ts'
import { BundleSet } from './bundle-set.ts'
import { field, index, isObject, key, typeName } from './key-path.ts'
import { TrustDomain } from './trust-domain.ts'
import { X509Bundle, parseAuthority } from './x509-bundle.ts'
import { spiffeError, type SpiffeErrorCode } from './errors.ts'

/**
 * Parsers for the documents that map trust domains to bundles. Each returns a
 * {@link BundleSet}; every error carries `at`, the key path of the offending value
 * (prefixed by `source`, the key path of `doc` in a larger document, if any).
 */

function fail (code: SpiffeErrorCode, message: string, at: string): never {
  throw spiffeError(code, message, { at })
}

/**
 * Walks a `{ trustDomain: value }` map. Keys may be bare (`example.org`) or SPIFFE IDs
 * (`spiffe://example.org`); two keys naming the same domain are a conflict.
 */
function parseDomainMap (map: unknown, base: string, what: string,
  parseOne: (td: TrustDomain, value: unknown, at: string) => X509Bundle): BundleSet {
  const self = base === '' ? what : base
  if (!isObject(map)) fail('ERR_SPIFFE_BUNDLE_MAP_MALFORMED', `${self} must be a map of trust domain to bundle, got ${typeName(map)}`, self)
  const seen = new Map<string, string>()
  const bundles: X509Bundle[] = []
  for (const [k, value] of Object.entries(map)) {
    const at = key(base, k)
    let td: TrustDomain
    try {
      td = TrustDomain.fromString(k)
    } catch (err) {
      if (!isSpiffeLbError(err)) throw err
      throw withContext(err, `key ${at}: ${err.message}`, { at, cause: err })
    }
    const first = seen.get(td.name)
    if (first !== undefined) {
      fail('ERR_SPIFFE_BUNDLE_DUPLICATE_TRUST_DOMAIN',
        `trust domain ${quote(td.name)} is listed twice, as ${first} and ${at}`, at)
    }
    seen.set(td.name, at)
    bundles.push(parseOne(td, value, at))
  }
  return BundleSet.of(bundles)
}

/**
 * Parses a Certificate Manager trust config's SPIFFE trust stores: either a whole trust
 * config (`{ spiffeTrustStores: { TD: { trustAnchors: [{ pemCertificate }] } }, … }`, as
 * `gcloud certificate-manager trust-configs describe` prints it) or the bare map (the shape
 * of a pool's `inlineTrustConfig.additionalTrustBundles`). Each `pemCertificate` holds one
 * CA certificate; literal two-character `\n` sequences (pasted from gcloud's YAML) are
 * accepted as newlines. An empty anchor list is an error.
 * Throws `ERR_SPIFFE_BUNDLE_*`, `ERR_SPIFFE_PEM_*`, `ERR_SPIFFE_TRUST_DOMAIN_*`.
 */
export function parseSpiffeTrustStores (doc: unknown, source = ''): BundleSet {
  const wrapped = isObject(doc) && Object.hasOwn(doc, 'spiffeTrustStores')
  const base = wrapped ? field(source, 'spiffeTrustStores') : source
  return parseDomainMap(wrapped ? doc.spiffeTrustStores : doc, base, 'spiffeTrustStores', parseTrustStore)
}

function parseTrustStore (td: TrustDomain, store: unknown, at: string): X509Bundle {
  if (!isObject(store)) fail('ERR_SPIFFE_BUNDLE_TRUST_STORE_MALFORMED', `${at} must be an object with trustAnchors, got ${typeName(store)}`, at)
  const intermediates = store.intermediateCas
  if (Array.isArray(intermediates) && intermediates.length > 0) {
    fail('ERR_SPIFFE_BUNDLE_INTERMEDIATES_UNSUPPORTED',
      `${field(at, 'intermediateCas')} is not supported for spiffe trust stores: peers must send their intermediates`, field(at, 'intermediateCas'))
  }
  const anchorsAt = field(at, 'trustAnchors')
  const anchors = store.trustAnchors
  if (!Array.isArray(anchors)) {
    fail('ERR_SPIFFE_BUNDLE_TRUST_STORE_MALFORMED', `${anchorsAt} must be a list of {pemCertificate}, got ${typeName(anchors)}`, anchorsAt)
  }
  if (anchors.length === 0) {
    fail('ERR_SPIFFE_BUNDLE_NO_TRUST_ANCHORS', `${anchorsAt} of trust domain ${quote(td.name)} must not be empty`, anchorsAt)
  }
  const certs = anchors.map((anchor: unknown, i) => {
    const anchorAt = index(anchorsAt, i)
    if (!isObject(anchor)) fail('ERR_SPIFFE_BUNDLE_TRUST_ANCHOR_MALFORMED', `${anchorAt} must be an object with pemCertificate, got ${typeName(anchor)}`, anchorAt)
    const pemAt = field(anchorAt, 'pemCertificate')
    const text = anchor.pemCertificate
    if (typeof text !== 'string' || text.trim() === '') {
      fail('ERR_SPIFFE_BUNDLE_TRUST_ANCHOR_MALFORMED', `${pemAt} must be a non-empty pem string, got ${typeName(text)}`, pemAt)
    }
    const blocks = parsePem(text.replace(/(?:\\r)?\\n/g, '\n'), pemAt)
    if (blocks.length === 0) {
      fail('ERR_SPIFFE_BUNDLE_TRUST_ANCHOR_NOT_PEM', `${pemAt} holds no pem block (${describeContent(text)})`, pemAt)
    }
    if (blocks.length > 1) {
      fail('ERR_SPIFFE_BUNDLE_TRUST_ANCHOR_MULTIPLE_CERTIFICATES',
        `${pemAt} holds ${blocks.length} pem blocks; put each certificate in its own trustAnchors entry`, pemAt)
    }
    const block = blocks[0] as { type: string, der: Buffer }
    if (block.type !== 'CERTIFICATE') {
      fail('ERR_SPIFFE_BUNDLE_UNEXPECTED_PEM_BLOCK', `${pemAt} holds a ${quote(block.type)} block, expected "CERTIFICATE"`, pemAt)
    }
    return parseAuthority(td, block.der, pemAt, pemAt)
  })
  return new X509Bundle(td, certs, anchorsAt)
}

/**
 * Parses the GCE credential directory's `trust_bundles.json`:
 * `{ "trust_domains": { TD: { "keys": [JWK…], "spiffe_sequence": n } } }`, each value a
 * SPIFFE bundle (see {@link X509Bundle.fromJwks}).
 */
export function parseTrustBundlesMap (doc: unknown, source = ''): BundleSet {
  const self = source === '' ? 'trust bundles' : source
  if (!isObject(doc)) fail('ERR_SPIFFE_BUNDLE_MAP_MALFORMED', `${self} must be an object with trust_domains, got ${typeName(doc)}`, self)
  return parseDomainMap(doc.trust_domains, field(source, 'trust_domains'), 'trust_domains',
    (td, value, at) => X509Bundle.fromJwks(td, value, at))
}

/**
 * Parses a SPIFFE bundle map `{ TD: <SPIFFE bundle JWK Set> }` (keys bare or `spiffe://TD`).
 * https://github.com/spiffe/spiffe/blob/main/standards/SPIFFE_Trust_Domain_and_Bundle.md#4-spiffe-bundle-format
 */
export function parseSpiffeBundleMap (doc: unknown, source = ''): BundleSet {
  return parseDomainMap(doc, source, 'spiffe bundle map', (td, value, at) => X509Bundle.fromJwks(td, value, at))
}
