import { isAbsolute, resolve } from 'node:path'
import { quote } from '../internal/errors.ts'
import { TrustDomain } from '../spiffe/trust-domain.ts'
import type { IssueList } from './issues.ts'
import type { RawConfig } from './schema.ts'
import type { RevocationConfig } from './types.ts'
import { isHttpUrl } from './values.ts'
import { configError } from './errors.ts'

/**
 * Resolves the `revocation` extension block: each key must be a trust domain, each url http(s),
 * each file is resolved against the config's directory; `staleCrl` becomes the verifier's
 * `closed` / `open`. Issues are added to `list` with their paths.
 */
export function resolveRevocation (raw: RawConfig['revocation'], baseDir: string, list: IssueList): RevocationConfig {
  const trustDomains: RevocationConfig['trustDomains'] = []
  for (const [key, entry] of Object.entries(raw?.trustDomains ?? {})) {
    const at = ['revocation', 'trustDomains', key]
    let td: TrustDomain | undefined
    try {
      td = TrustDomain.fromString(key)
      if (key.startsWith('spiffe://')) throw configError('ERR_SPIFFE_CONFIG_REVOCATION_TRUST_DOMAIN', 'write the bare trust domain name')
    } catch (err) {
      list.add(at, 'ERR_SPIFFE_CONFIG_REVOCATION_TRUST_DOMAIN', `revocation key ${quote(key)} is not a trust domain name: ${(err as Error).message}`)
    }
    entry.crlUrls.forEach((url, i) => {
      if (!isHttpUrl(url)) list.add([...at, 'crlUrls', i], 'ERR_SPIFFE_CONFIG_REVOCATION_URL', `crl url must be an http or https url, got ${quote(url)}`)
    })
    if (td === undefined) continue
    trustDomains.push({
      trustDomain: td.name,
      crlFiles: entry.crlFiles.map((f) => isAbsolute(f) ? f : resolve(baseDir, f)),
      crlUrls: entry.crlUrls,
      staleCrl: entry.staleCrl
    })
  }
  return { trustDomains }
}
