// Shared fixtures of the test/tls-*.test.ts files: trust domains with in-memory CAs, SVIDs,
// a snapshot source the test drives by hand, and a raw TLS "backend" that presents any
// certificate and records whether it ever received application data.
import { once } from 'node:events'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { AddressInfo, Socket } from 'node:net'
import tls from 'node:tls'
import type { TLSSocket } from 'node:tls'
import { createRootCa, issueCertificate, issueSvidCertificate } from '../src/pki/index.ts'
import type { CertificateAuthority, CertificateProfile } from '../src/pki/index.ts'
import { BundleSet } from '../src/spiffe/bundle-set.ts'
import type { RevocationByDomain } from '../src/spiffe/revocation.ts'
import type { X509Snapshot, X509SnapshotSource } from '../src/spiffe/snapshot.ts'
import { TrustDomain } from '../src/spiffe/trust-domain.ts'
import { X509Bundle } from '../src/spiffe/x509-bundle.ts'
import { X509Svid } from '../src/spiffe/x509-svid.ts'

/** A trust domain with its own root CA. */
export interface Domain {
  name: string
  td: TrustDomain
  ca: CertificateAuthority
  bundle: X509Bundle
}

/** Returns a new trust domain `name` with a fresh ECDSA P-256 root CA. */
export async function makeDomain (name: string): Promise<Domain> {
  const ca = await createRootCa({ subject: `CN=${name} root, O=spiffe-lb test`, keyAlgorithm: 'ECDSA_P256' })
  const td = TrustDomain.fromString(name)
  return { name, td, ca, bundle: new X509Bundle(td, [ca.cert]) }
}

/** Returns an X.509-SVID for `spiffe://DOMAIN/PATH` issued by `domain`'s CA. */
export async function makeSvid (domain: Domain, path: string, opts: { lifetimeMs?: number, notBefore?: number, dnsNames?: string[] } = {}): Promise<X509Svid> {
  const issued = await issueSvidCertificate(domain.ca, {
    uri: `spiffe://${domain.name}${path}`,
    lifetimeMs: opts.lifetimeMs ?? 3_600_000,
    // Backdated a minute, as real issuers do: tests freeze a ManualClock at "now" and may
    // issue a rotated SVID a second later, which must already be valid on that clock.
    notBefore: opts.notBefore ?? Date.now() - 60_000,
    ...(opts.dnsNames === undefined ? {} : { dnsNames: opts.dnsNames })
  })
  return X509Svid.fromPem(issued.chainPem, issued.keyPem, path)
}

/** Returns PEM chain and key of a deliberately odd certificate (for backends that must be refused). */
export async function makeRawCert (issuer: CertificateAuthority, profile: CertificateProfile): Promise<{ chainPem: string, keyPem: string }> {
  const issued = await issueCertificate(issuer, profile)
  return { chainPem: issued.chainPem, keyPem: issued.keyPem }
}

/**
 * A snapshot source driven by the test: `publish` bumps `svidGeneration` when the SVID object
 * changes and `bundleGeneration` when the bundle set object changes, like the credential store.
 */
export class TestSnapshots implements X509SnapshotSource {
  #current: X509Snapshot | undefined
  readonly #listeners = new Set<(s: X509Snapshot) => void>()

  constructor (svid?: X509Svid, bundles?: Iterable<X509Bundle>) {
    if (svid !== undefined && bundles !== undefined) this.publish({ svid, bundles })
  }

  current (): X509Snapshot | undefined { return this.#current }

  subscribe (listener: (s: X509Snapshot) => void): () => void {
    this.#listeners.add(listener)
    return () => { this.#listeners.delete(listener) }
  }

  /** Publishes a snapshot replacing the SVID, the bundles and/or the CRLs (a CRL change moves the bundle generation). */
  publish (next: { svid?: X509Svid, bundles?: Iterable<X509Bundle>, revocation?: RevocationByDomain }): X509Snapshot {
    const prev = this.#current
    const svid = next.svid ?? prev?.svid
    if (svid === undefined) throw new Error('first publish needs an svid')
    const bundles = next.bundles === undefined ? (prev?.bundles ?? BundleSet.of([])) : BundleSet.of(next.bundles)
    const revocation = next.revocation ?? prev?.revocation
    const snapshot: X509Snapshot = {
      svid,
      bundles,
      generation: (prev?.generation ?? 0) + 1,
      svidGeneration: (prev?.svidGeneration ?? 0) + (next.svid === undefined ? 0 : 1),
      bundleGeneration: (prev?.bundleGeneration ?? 0) + (next.bundles === undefined && next.revocation === undefined ? 0 : 1),
      ...(revocation === undefined ? {} : { revocation })
    }
    this.#current = snapshot
    for (const l of this.#listeners) l(snapshot)
    return snapshot
  }
}

/** A plain TLS server presenting any chain, recording what reached it. */
export interface RawBackend {
  port: number
  /** Application bytes received over all connections. */
  bytesReceived: () => number
  /** TLS connections that completed a handshake. */
  handshakes: () => number
  /** Of those, resumed ones. */
  resumed: () => number
  /** Resolves once `n` connections (TCP) have closed. */
  closedConnections: (n: number) => Promise<void>
  /** Replaces the certificate the server presents. */
  setCertificate: (chainPem: string, keyPem: string) => void
  close: () => Promise<void>
}

/**
 * Starts a TLS server on 127.0.0.1 with `chainPem`/`keyPem` that requests (but never judges) a
 * client certificate and answers each chunk with `pong`.
 */
export async function startRawBackend (chainPem: string, keyPem: string, opts: { maxVersion?: tls.SecureVersion } = {}): Promise<RawBackend> {
  let bytes = 0
  let handshakes = 0
  let resumed = 0
  let closed = 0
  const waiters: Array<{ n: number, resolve: () => void }> = []
  const sockets = new Set<Socket>()
  const server = tls.createServer({ cert: chainPem, key: keyPem, requestCert: true, rejectUnauthorized: false, ca: [], ...opts }, (s: TLSSocket) => {
    handshakes++
    if (s.isSessionReused()) resumed++
    s.on('data', (d: Buffer) => { bytes += d.length; s.write('pong') })
    s.on('error', () => {})
  })
  server.on('connection', (s: Socket) => {
    sockets.add(s)
    s.once('close', () => {
      sockets.delete(s)
      closed++
      for (const w of waiters.filter((x) => closed >= x.n)) w.resolve()
    })
  })
  server.on('tlsClientError', () => {})
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  return {
    port: (server.address() as AddressInfo).port,
    bytesReceived: () => bytes,
    handshakes: () => handshakes,
    resumed: () => resumed,
    closedConnections: (n) => closed >= n ? Promise.resolve() : new Promise((resolve) => { waiters.push({ n, resolve }) }),
    setCertificate: (c, k) => { server.setSecureContext({ cert: c, key: k, ca: [] }) },
    close: async () => {
      for (const s of sockets) s.destroy()
      server.close()
      await once(server, 'close')
    }
  }
}

/** Paths of credential files written by {@link writeCredentials}. */
export interface CredentialFiles {
  dir: string
  cert: string
  key: string
  /** `TD=FILE` arguments for `--bundle`. */
  bundleArgs: string[]
}

/**
 * Writes `svid` and `bundles` into `dir` twice over: in the GCE layout (certificates.pem,
 * private_key.pem, ca_certificates.pem for the SVID's own domain, trust_bundles.json for all)
 * and as `TD.bundle.pem` files for `--bundle TD=FILE`.
 */
export async function writeCredentials (dir: string, svid: X509Svid, bundles: readonly X509Bundle[]): Promise<CredentialFiles> {
  const cert = join(dir, 'certificates.pem')
  const key = join(dir, 'private_key.pem')
  await writeFile(cert, svid.chainPem())
  await writeFile(key, svid.privateKeyPem(), { mode: 0o600 })
  const own = bundles.find((x) => x.trustDomain.equals(svid.id.trustDomain))
  if (own !== undefined) await writeFile(join(dir, 'ca_certificates.pem'), own.toPem())
  const domains = Object.fromEntries(bundles.map((x) => [x.trustDomain.name, x.toJwks(1)]))
  await writeFile(join(dir, 'trust_bundles.json'), JSON.stringify({ trust_domains: domains }))
  const bundleArgs: string[] = []
  for (const x of bundles) {
    const file = join(dir, `${x.trustDomain.name}.bundle.pem`)
    await writeFile(file, x.toPem())
    bundleArgs.push(`${x.trustDomain.name}=${file}`)
  }
  return { dir, cert, key, bundleArgs }
}

/** Returns a new temporary directory, removed when the test `t` ends. */
export async function tempDir (t: { teardown: (fn: () => Promise<void>) => void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'spiffe-lb-tls-'))
  t.teardown(async () => { await rm(dir, { recursive: true, force: true }) })
  return dir
}
