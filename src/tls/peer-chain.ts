import { X509Certificate } from 'node:crypto'
import type { TLSSocket } from 'node:tls'
import { PEER_CHAIN_MEMORY_SIZE } from '../defaults.ts'
import { Lru } from '../internal/lru.ts'

/**
 * Returns the certificate chain the peer of `socket` presented, leaf first, ordered by issuer
 * (certificates the peer sent that do not chain are dropped by Node). Empty when the peer sent no
 * certificate, or when the session was resumed on the client side (Node keeps no peer certificate
 * then). Call it ONCE per socket: in Node 24 a second peer-certificate call on a client socket
 * returns nothing, because the first one consumes OpenSSL's peer chain. Given the leaf that call
 * returned, walks its issuers instead.
 */
export function readPeerChain (from: TLSSocket | X509Certificate | undefined): X509Certificate[] {
  const chain: X509Certificate[] = []
  const seen = new Set<string>()
  let cert = from === undefined || from instanceof X509Certificate ? from : from.getPeerX509Certificate()
  while (cert !== undefined && !seen.has(cert.fingerprint256)) {
    seen.add(cert.fingerprint256)
    chain.push(cert)
    cert = cert.issuerCertificate
  }
  return chain
}

/**
 * Remembers recently verified chains by leaf fingerprint, so a resumed server-side session (where
 * OpenSSL restores only the client's leaf, not its intermediates) can be re-verified in full.
 * Bounded: the least recently used entry is dropped first.
 */
export class PeerChainMemory {
  readonly #chains: Lru<string, readonly X509Certificate[]>

  constructor (max = PEER_CHAIN_MEMORY_SIZE) {
    this.#chains = new Lru(max)
  }

  /** Stores `chain` (leaf first) under its leaf's fingerprint. */
  remember (chain: readonly X509Certificate[]): void {
    const leaf = chain[0]
    if (leaf === undefined || chain.length < 2) return
    this.#chains.set(leaf.fingerprint256, chain)
  }

  /** Returns `chain` completed with remembered intermediates when only its leaf is known. */
  complete (chain: readonly X509Certificate[]): readonly X509Certificate[] {
    const leaf = chain[0]
    if (leaf === undefined || chain.length > 1) return chain
    return this.#chains.get(leaf.fingerprint256) ?? chain
  }

  /** Forgets everything (used when trust changes). */
  clear (): void {
    this.#chains.clear()
  }

  /** Number of remembered chains. */
  get size (): number { return this.#chains.size }
}
