import type { X509Certificate } from 'node:crypto'
import type { CertificateView, RotationView } from '../admin/status.ts'
import type { CredentialSnapshot } from '../credentials/credential-snapshot.ts'
import type { CredentialStore } from '../credentials/store.ts'
import { DASHBOARD_ROTATION_HISTORY } from '../defaults.ts'
import { certLabel } from '../spiffe/cert-info.ts'

/**
 * The SVIDs a credential store accepted since start, for `/status` and the admin dashboard:
 * one entry per new SVID (a bundle-only change is no rotation), the oldest dropped past `max`.
 */
export class RotationLog {
  readonly #max: number
  readonly #entries: RotationView[] = []
  #fingerprint: string | undefined

  constructor (max = DASHBOARD_ROTATION_HISTORY) { this.#max = max }

  /** Subscribes to `store` (before its source starts, so the first SVID counts); returns the unsubscribe function. */
  follow (store: CredentialStore): () => void {
    const current = store.current()
    if (current !== undefined) this.record(current)
    return store.subscribe((s) => { this.record(s) })
  }

  /** Records `snapshot` when it carries another SVID than the last one recorded. */
  record (snapshot: CredentialSnapshot): void {
    if (snapshot.svidFingerprint === this.#fingerprint) return
    this.#fingerprint = snapshot.svidFingerprint
    this.#entries.push({
      at: new Date(snapshot.loadedAt).toISOString(),
      spiffeId: snapshot.svid.id.toString(),
      serial: snapshot.svid.leaf.serialNumber.toLowerCase(),
      notAfter: new Date(snapshot.svid.notAfter).toISOString()
    })
    if (this.#entries.length > this.#max) this.#entries.shift()
  }

  /** Returns the recorded SVIDs, oldest first. */
  list (): RotationView[] { return this.#entries.map((e) => ({ ...e })) }
}

/** Returns `cert` as `/status` shows it (the SPIFFE ID only when given: the leaf's). */
export function certificateView (cert: X509Certificate, spiffeId?: string): CertificateView {
  return {
    subject: certLabel(cert),
    ...(spiffeId === undefined ? {} : { spiffeId }),
    issuer: (cert.issuer as string | undefined ?? '').replaceAll('\n', ', '),
    serial: cert.serialNumber.toLowerCase(),
    notBefore: cert.validFromDate.toISOString(),
    notAfter: cert.validToDate.toISOString()
  }
}
