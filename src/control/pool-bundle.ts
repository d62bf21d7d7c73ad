import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { writeFileAtomic } from '../internal/atomic-write.ts'
import { isSpiffeLbError, quote } from '../internal/errors.ts'
import type { TrustDomain } from '../spiffe/trust-domain.ts'
import { X509Bundle } from '../spiffe/x509-bundle.ts'
import { CA_FILES } from './ca-layout.ts'
import { controlError } from './errors.ts'

/** A CA pool's bundle and the `spiffe_sequence` it is served with. */
export interface SequencedBundle { bundle: X509Bundle, sequence: number }

interface SequenceState { sequence: number, fingerprints: string[] }

/**
 * The bundle of a CA pool directory (control/ca-layout.ts) as `bundle-endpoint` serves it: the
 * root the pool's CA chains to (`root.pem` of a subordinate, else `ca.pem`; every certificate in
 * it, so an old root appended during a rotation stays served). Read again on every
 * {@link current}, so a rotated CA is served at once; each change of anchors raises the
 * `spiffe_sequence`, which is kept in `bundle-sequence.json` so a restart never serves a lower
 * one (Trust Domain and Bundle §4.1.1). Reads are serialized.
 */
export class PoolBundle {
  readonly #dir: string
  readonly #td: TrustDomain
  #state: SequenceState | undefined
  #queue: Promise<unknown> = Promise.resolve()

  constructor (dir: string, td: TrustDomain) {
    this.#dir = dir
    this.#td = td
  }

  /**
   * Returns the bundle in the directory now with its sequence. Throws
   * `ERR_SPIFFE_CONTROL_STATE_UNREADABLE` or `ERR_SPIFFE_CONTROL_STATE_CORRUPT` when the CA
   * files cannot be read (a rotation half done: the caller keeps serving the last good one),
   * `ERR_SPIFFE_CONTROL_STATE_WRITE` when the new sequence cannot be stored.
   */
  async current (): Promise<SequencedBundle> {
    const next = this.#queue.then(async () => await this.#read())
    this.#queue = next.catch(() => {})
    return await next
  }

  async #read (): Promise<SequencedBundle> {
    const bundle = await this.#readBundle()
    const fingerprints = [...bundle.fingerprints()].sort()
    this.#state ??= await this.#readState()
    const prev = this.#state
    if (prev !== undefined && prev.fingerprints.join(',') === fingerprints.join(',')) return { bundle, sequence: prev.sequence }
    const state = { sequence: (prev?.sequence ?? 0) + 1, fingerprints }
    const file = join(this.#dir, CA_FILES.bundleSequence)
    try {
      await writeFileAtomic(file, `${JSON.stringify(state)}\n`, 0o644)
    } catch (err) {
      throw controlError('ERR_SPIFFE_CONTROL_STATE_WRITE', `cannot store the bundle sequence in ${quote(file)}: ${(err as Error).message}`, { at: file, cause: err })
    }
    this.#state = state
    return { bundle, sequence: state.sequence }
  }

  async #readBundle (): Promise<X509Bundle> {
    const root = join(this.#dir, CA_FILES.root)
    const cert = join(this.#dir, CA_FILES.cert)
    const text = await readFile(root, 'utf8').then((t) => ({ t, file: root }), async (err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw unreadable(root, err)
      return await readFile(cert, 'utf8').then((t) => ({ t, file: cert }), (e: NodeJS.ErrnoException) => { throw unreadable(cert, e) })
    })
    try {
      const bundle = X509Bundle.fromPem(this.#td, text.t, text.file)
      if (bundle.authorities.length === 0) throw controlError('ERR_SPIFFE_CONTROL_STATE_CORRUPT', 'no certificate')
      return bundle
    } catch (err) {
      const why = isSpiffeLbError(err) ? `${err.code}: ${err.message}` : (err as Error).message
      throw controlError('ERR_SPIFFE_CONTROL_STATE_CORRUPT', `ca file ${quote(text.file)} holds no usable ca certificate: ${why}`, { at: text.file, cause: err })
    }
  }

  async #readState (): Promise<SequenceState | undefined> {
    const file = join(this.#dir, CA_FILES.bundleSequence)
    try {
      const doc = JSON.parse(await readFile(file, 'utf8')) as Partial<SequenceState>
      if (typeof doc.sequence === 'number' && Number.isInteger(doc.sequence) && doc.sequence >= 0 && Array.isArray(doc.fingerprints)) {
        return { sequence: doc.sequence, fingerprints: doc.fingerprints.map(String) }
      }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    }
    // A damaged sequence file must not make the sequence restart low: start above the clock's seconds.
    return { sequence: Math.floor(Date.now() / 1000), fingerprints: [] }
  }
}

function unreadable (file: string, err: NodeJS.ErrnoException): Error {
  return controlError('ERR_SPIFFE_CONTROL_STATE_UNREADABLE', `cannot read ${quote(file)}: ${err.code ?? err.message}`, { at: file, cause: err })
}
