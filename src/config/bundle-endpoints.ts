import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { FEDERATION_MAX_BUNDLE_AGE_MS } from '../defaults.ts'
import { quote } from '../internal/errors.ts'
import { SpiffeId } from '../spiffe/spiffe-id.ts'
import { TrustDomain } from '../spiffe/trust-domain.ts'
import { X509Bundle } from '../spiffe/x509-bundle.ts'
import type { ConfigPath, IssueList } from './issues.ts'
import type { RawBundleEndpoint, RawTrustStoreMap } from './schema.ts'
import type { BundleEndpointConfig } from './types.ts'
import { parseDuration } from './values.ts'
import { configError } from './errors.ts'

/**
 * Returns the `bundleEndpoint` entries of a trust bundle map (an extension of
 * `additionalTrustBundles`: the domain's bundle is fetched, SPIFFE Federation §5), resolved:
 * an `https://` url with a host, the profile's own fields (`caFile` for https_web;
 * `endpointSpiffeId` and `bootstrapBundle` for https_spiffe, the bootstrap being the bundle of
 * the endpoint ID's trust domain), and `maxBundleAge`. A pool never fetches its own domain.
 * Records every problem in `list` under its path and leaves bad entries out; trust domain keys
 * are checked by `resolveTrustStores`, so a bad key is skipped silently here.
 * https://github.com/spiffe/spiffe/blob/main/standards/SPIFFE_Federation.md#5-serving-and-consuming-a-spiffe-bundle-endpoint
 */
export function resolveBundleEndpoints (map: RawTrustStoreMap, path: ConfigPath, own: TrustDomain | undefined,
  baseDir: string, list: IssueList): BundleEndpointConfig[] {
  const out: BundleEndpointConfig[] = []
  for (const [key, store] of Object.entries(map)) {
    const raw = store.bundleEndpoint
    if (raw === undefined || store.trustAnchors !== undefined) continue
    let trustDomain: TrustDomain
    try {
      trustDomain = TrustDomain.fromString(key)
    } catch {
      continue
    }
    const at = [...path, key, 'bundleEndpoint']
    if (own !== undefined && trustDomain.equals(own)) {
      list.add(at, 'ERR_SPIFFE_CONFIG_BUNDLE_ENDPOINT_OWN_DOMAIN',
        `trust domain ${quote(trustDomain.name)} is the pool's own domain: its bundle comes from the pool's ca, not from a bundle endpoint`)
      continue
    }
    const endpoint = resolveOne(raw, trustDomain, at, baseDir, list)
    if (endpoint !== undefined) out.push(endpoint)
  }
  return out
}

function resolveOne (raw: RawBundleEndpoint, trustDomain: TrustDomain, at: ConfigPath, baseDir: string, list: IssueList): BundleEndpointConfig | undefined {
  const before = list.size
  if (!isHttpsUrl(raw.url)) {
    list.add([...at, 'url'], 'ERR_SPIFFE_CONFIG_BUNDLE_ENDPOINT_URL', `bundle endpoint url must be an https url with a host, got ${quote(raw.url)}`)
  }
  let maxBundleAgeMs = FEDERATION_MAX_BUNDLE_AGE_MS
  if (raw.maxBundleAge !== undefined) {
    try {
      maxBundleAgeMs = parseDuration(raw.maxBundleAge)
      if (maxBundleAgeMs <= 0) list.add([...at, 'maxBundleAge'], 'ERR_SPIFFE_CONFIG_RANGE', `maxBundleAge must be positive, got ${quote(raw.maxBundleAge)}`)
    } catch (err) {
      list.addError([...at, 'maxBundleAge'], 'ERR_SPIFFE_CONFIG_DURATION', 'maxBundleAge is not a duration', err)
    }
  }
  const misplaced = (field: 'caFile' | 'endpointSpiffeId' | 'bootstrapBundle'): void => {
    if (raw[field] !== undefined) {
      list.add([...at, field], 'ERR_SPIFFE_CONFIG_BUNDLE_ENDPOINT_FIELD', `${quote(field)} does not apply to profile ${quote(raw.profile)}`)
    }
  }
  const base = { trustDomain, url: raw.url, maxBundleAgeMs }
  if (raw.profile === 'https_web') {
    misplaced('endpointSpiffeId')
    misplaced('bootstrapBundle')
    const caPem = raw.caFile === undefined ? undefined : readPemFile(raw.caFile, [...at, 'caFile'], baseDir, list)
    if (caPem !== undefined) certificatesOf(trustDomain, caPem.text, caPem.source, [...at, 'caFile'], list)
    if (list.size > before) return undefined
    return { ...base, profile: 'https_web', ...(caPem === undefined ? {} : { caPem: caPem.text }) }
  }
  misplaced('caFile')
  let endpointSpiffeId: SpiffeId | undefined
  if (raw.endpointSpiffeId === undefined) {
    list.add([...at, 'endpointSpiffeId'], 'ERR_SPIFFE_CONFIG_REQUIRED', 'is required for profile "https_spiffe": the spiffe id the endpoint\'s server certificate must carry')
  } else {
    try {
      endpointSpiffeId = SpiffeId.fromString(raw.endpointSpiffeId)
    } catch (err) {
      list.addError([...at, 'endpointSpiffeId'], 'ERR_SPIFFE_CONFIG_BUNDLE_ENDPOINT_ID', `endpointSpiffeId ${quote(raw.endpointSpiffeId)} is not a spiffe id`, err)
    }
  }
  let bootstrapBundle: X509Bundle | undefined
  if (raw.bootstrapBundle === undefined) {
    list.add([...at, 'bootstrapBundle'], 'ERR_SPIFFE_CONFIG_REQUIRED', 'is required for profile "https_spiffe": the bundle (pem) of the endpoint\'s trust domain, used until one is fetched')
  } else if (endpointSpiffeId !== undefined) {
    const pem = raw.bootstrapBundle.includes('-----BEGIN')
      ? { text: raw.bootstrapBundle, source: 'bootstrapBundle' }
      : readPemFile(raw.bootstrapBundle, [...at, 'bootstrapBundle'], baseDir, list)
    if (pem !== undefined) bootstrapBundle = certificatesOf(endpointSpiffeId.trustDomain, pem.text, pem.source, [...at, 'bootstrapBundle'], list)
  }
  if (list.size > before || endpointSpiffeId === undefined || bootstrapBundle === undefined) return undefined
  return { ...base, profile: 'https_spiffe', endpointSpiffeId, bootstrapBundle }
}

function isHttpsUrl (text: string): boolean {
  try {
    const url = new URL(text)
    return url.protocol === 'https:' && url.hostname !== '' && url.username === '' && url.password === ''
  } catch {
    return false
  }
}

function readPemFile (file: string, at: ConfigPath, baseDir: string, list: IssueList): { text: string, source: string } | undefined {
  const path = resolve(baseDir, file)
  try {
    return { text: readFileSync(path, 'utf8'), source: path }
  } catch (err) {
    const why = (err as NodeJS.ErrnoException).code ?? (err instanceof Error ? err.message : String(err))
    list.add(at, 'ERR_SPIFFE_CONFIG_BUNDLE_ENDPOINT_PEM', `cannot read pem file ${quote(path)}: ${why}`)
    return undefined
  }
}

/** Returns the certificates of `text` as a bundle of `td`; records the problem when there is none or one is unusable. */
function certificatesOf (td: TrustDomain, text: string, source: string, at: ConfigPath, list: IssueList): X509Bundle | undefined {
  try {
    const bundle = X509Bundle.fromPem(td, text, source)
    if (bundle.authorities.length === 0) throw configError('ERR_SPIFFE_CONFIG_BUNDLE_ENDPOINT_PEM', `not a usable pem of ca certificates: no certificate in ${quote(source)}`)
    return bundle
  } catch (err) {
    list.addError(at, 'ERR_SPIFFE_CONFIG_BUNDLE_ENDPOINT_PEM', 'not a usable pem of ca certificates', err)
    return undefined
  }
}
