import type { KeyAlgorithm } from '../../pki/index.ts'
import type { HandshakeBenchOptions, HandshakeMode, TlsVersion } from './handshake-options.ts'

/** One cell of the handshake matrix, before it is measured. */
export interface MatrixCell {
  /** `ECDSA_P256/leaf+root/TLSv1.3/X25519/full`. */
  id: string
  keyAlgorithm: KeyAlgorithm
  chainDepth: 1 | 2
  tlsVersion: TlsVersion
  /** The group the cell is about. */
  group: string
  /** What the client offers: `group`, plus the ECDSA certificate's curve under TLS 1.2 (see {@link offeredGroups}). */
  offeredGroups: string[]
  mode: HandshakeMode
}

/** The cells of a run, and the combinations left out with the reason. */
export interface HandshakeMatrix {
  cells: MatrixCell[]
  skipped: Array<{ id: string, why: string }>
}

/** Hybrid post-quantum groups exist for TLS 1.3 only (draft-ietf-tls-ecdhe-mlkem). */
const TLS13_ONLY_GROUP = /mlkem|kyber/i

const CERT_CURVE: Partial<Record<KeyAlgorithm, string>> = { ECDSA_P256: 'P-256', ECDSA_P384: 'P-384' }

/** Returns `leaf+root` or `leaf+intermediate+root`. */
export function chainName (depth: 1 | 2): string {
  return depth === 1 ? 'leaf+root' : 'leaf+intermediate+root'
}

/** Returns the id of a cell: `KEY/CHAIN/VERSION/GROUP/MODE`. */
export function cellId (c: Pick<MatrixCell, 'keyAlgorithm' | 'chainDepth' | 'tlsVersion' | 'group' | 'mode'>): string {
  return `${c.keyAlgorithm}/${chainName(c.chainDepth)}/${c.tlsVersion}/${c.group}/${c.mode}`
}

/**
 * Returns the groups the client offers for a cell. Under TLS 1.2 an ECDSA certificate is only
 * usable when its curve is among the client's supported groups (RFC 8422 section 5.1; OpenSSL
 * enforces it with alert 40), so the certificate's curve is appended after `group`. OpenSSL
 * servers pick by client preference, so `group` is still the one negotiated (the report records
 * what was).
 */
export function offeredGroups (group: string, tlsVersion: TlsVersion, keyAlgorithm: KeyAlgorithm): string[] {
  const curve = CERT_CURVE[keyAlgorithm]
  if (tlsVersion === 'TLSv1.3' || curve === undefined || curve === group) return [group]
  return [group, curve]
}

/**
 * Returns the cells of `options` in run order (key algorithm, chain depth, version, group, mode:
 * cells sharing a PKI and a target are adjacent). A hybrid group under TLS 1.2 is skipped.
 */
export function handshakeMatrix (options: Pick<HandshakeBenchOptions, 'keyAlgorithms' | 'chainDepths' | 'tlsVersions' | 'groups' | 'modes'>): HandshakeMatrix {
  const cells: MatrixCell[] = []
  const skipped: HandshakeMatrix['skipped'] = []
  for (const keyAlgorithm of options.keyAlgorithms) {
    for (const chainDepth of options.chainDepths) {
      for (const tlsVersion of options.tlsVersions) {
        for (const group of options.groups) {
          for (const mode of options.modes) {
            const base = { keyAlgorithm, chainDepth, tlsVersion, group, mode }
            if (tlsVersion === 'TLSv1.2' && TLS13_ONLY_GROUP.test(group)) {
              skipped.push({ id: cellId(base), why: `${group} is a TLS 1.3 group` })
              continue
            }
            cells.push({ id: cellId(base), ...base, offeredGroups: offeredGroups(group, tlsVersion, keyAlgorithm) })
          }
        }
      }
    }
  }
  return { cells, skipped }
}
