import type { KeyObject, X509Certificate } from 'node:crypto'
import type { KeyAlgorithm } from './key-algorithm.ts'

/** A CA that can sign: its certificate, key, and the chain up to its root. */
export interface CertificateAuthority {
  cert: X509Certificate
  certPem: string
  privateKey: KeyObject
  /** PKCS#8 PEM. */
  keyPem: string
  keyAlgorithm: KeyAlgorithm
  /** This CA's basicConstraints pathLenConstraint: how many CAs may still follow it; undefined = unlimited. */
  maxChainLength: number | undefined
  /** This CA, its parents, and the root last. */
  chain: X509Certificate[]
  /** This CA's cert and its parents up to but EXCLUDING the root ('' for a root CA). */
  chainPem: string
  /** The self-signed root of this CA's chain (this CA's own cert for a root). */
  rootPem: string
}
