// Test support only: certificates for the credential tests, generated in memory at run time.
import { createRootCa, createSubordinateCa, issueSvidCertificate, type CertificateAuthority } from '../../pki/index.ts'
import { BundleSet } from '../../spiffe/bundle-set.ts'
import { SpiffeId } from '../../spiffe/spiffe-id.ts'
import { TrustDomain } from '../../spiffe/trust-domain.ts'
import { X509Bundle } from '../../spiffe/x509-bundle.ts'
import { DAY_MS, HOUR_MS, MINUTE_MS } from '../../defaults.ts'

/**
 * Material a source delivers, in a form every source can render: the SVID chain and key as
 * PEM, and the bundles as (trust domain, PEM) pairs in order. A domain may appear twice on
 * purpose (the duplicate-trust-domain case); each source renders that in its own format.
 */
export interface Material {
  label: string
  chainPem: string
  keyPem: string
  bundles: Array<[trustDomain: string, pem: string]>
}

export const OWN_TD = 'demo-pool.global.123456789012.workload.id.goog'
export const IDENTITY = SpiffeId.fromString(`spiffe://${OWN_TD}/ns/lb/sa/frontend`)

/** Everything the credential tests need, created once per process. */
export interface Fixtures {
  root: CertificateAuthority
  intermediate: CertificateAuthority
  peerRoot: CertificateAuthority
  otherRoot: CertificateAuthority
  /** `other.test`, configured as additionalTrustBundles. */
  additional: BundleSet
  good: [Material, Material, Material]
  /** `good[1]` plus a bundle for `peer.test`: a trust change without an SVID change. */
  withPeer: Material
  /** The six bad updates of the shared suite, with the error code each must produce. */
  bad: Array<{ material: Material, code: RegExp }>
}

let cached: Promise<Fixtures> | undefined

/** Returns the shared fixtures (ECDSA P-256 only: fast). */
export async function fixtures (): Promise<Fixtures> {
  cached ??= build()
  return await cached
}

/** Returns a fresh SVID for `uri` signed by `ca`, valid from `notBefore` for `lifetimeMs`. */
export async function svidPem (ca: CertificateAuthority, uri: string, notBefore = Date.now() - MINUTE_MS, lifetimeMs = HOUR_MS): Promise<{ chainPem: string, keyPem: string, serial: string }> {
  const issued = await issueSvidCertificate(ca, { uri, notBefore, lifetimeMs })
  return { chainPem: issued.chainPem, keyPem: issued.keyPem, serial: issued.serialHex }
}

async function build (): Promise<Fixtures> {
  const notBefore = Date.now() - DAY_MS
  const root = await createRootCa({ subject: 'CN=Test Root, O=spiffe-lb', notBefore })
  const intermediate = await createSubordinateCa(root, { subject: 'CN=Test Intermediate, O=spiffe-lb', notBefore })
  const peerRoot = await createRootCa({ subject: 'CN=Peer Root', notBefore })
  const otherRoot = await createRootCa({ subject: 'CN=Other Root', notBefore })
  const own: [string, string] = [OWN_TD, root.rootPem]
  const id = IDENTITY.toString()
  const material = async (label: string, bundles: Array<[string, string]> = [own]): Promise<Material> =>
    ({ label, ...await svidPem(intermediate, id), bundles })
  const [g1, g2, g3, other] = await Promise.all([material('good 1'), material('good 2'), material('good 3'), material('other')])
  const wrongId = await svidPem(intermediate, `spiffe://${OWN_TD}/ns/lb/sa/intruder`)
  const expired = await svidPem(intermediate, id, Date.now() - 3 * HOUR_MS, HOUR_MS)
  const withOwn = (label: string, m: { chainPem: string, keyPem: string }): Material =>
    ({ label, chainPem: m.chainPem, keyPem: m.keyPem, bundles: [own] })
  return {
    root,
    intermediate,
    peerRoot,
    otherRoot,
    additional: BundleSet.of([X509Bundle.fromPem(TrustDomain.fromString('other.test'), otherRoot.rootPem)]),
    good: [g1, g2, g3],
    withPeer: { ...g2, label: 'good 2 + peer.test', bundles: [own, ['peer.test', peerRoot.rootPem]] },
    bad: [
      { material: { ...other, label: 'mismatched key', keyPem: g1.keyPem }, code: /KEY_MISMATCH/ },
      { material: { ...other, label: 'garbage pem', chainPem: '-----BEGIN CERTIFICATE-----\nthis is not base64!\n-----END CERTIFICATE-----\n' }, code: /PEM|SVID|CERT/ },
      { material: { ...other, label: 'half-written file', chainPem: other.chainPem.slice(0, Math.floor(other.chainPem.indexOf('-----END') / 2)) }, code: /TRUNCATED|PEM/ },
      { material: withOwn('expired cert', expired), code: /EXPIRED/ },
      { material: withOwn('wrong spiffe id', wrongId), code: /WRONG_IDENTITY|IDENTITY/ },
      { material: { ...other, label: 'duplicate trust domain, other anchors', bundles: [own, [OWN_TD, peerRoot.rootPem]] }, code: /DUPLICATE/ }
    ]
  }
}
