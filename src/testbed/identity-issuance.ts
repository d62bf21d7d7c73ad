import type { SpiffeLbConfig } from '../config/types.ts'
import { durationFlag } from '../process/duration-flag.ts'
import { openPoolIssuance, poolTrustAnchors } from '../control/pool-issuance.ts'
import type { IssuedPem, IssueParams } from '../control/rotating-credential.ts'
import type { Clock } from '../internal/clock.ts'
import type { Logger } from 'pino'
import { issueSvidCertificate } from '../pki/index.ts'
import type { SpiffeId } from '../spiffe/spiffe-id.ts'
import { join } from 'node:path'
import { CA_FILES } from '../control/ca-layout.ts'

/** What the control-plane servers (metadata server, Workload API) need to issue one identity. */
export interface IdentityIssuance {
  /** Issues a fresh SVID for the identity from its pool's CA, with the CIC's key algorithm. */
  issue: (p: IssueParams) => Promise<IssuedPem>
  /** Trust anchors per trust domain (PEM): the pool's own root plus its additionalTrustBundles. */
  anchors: Map<string, string>
  trustDomain: string
  rotation: { lifetimeMs: number, rotationWindowPercentage: number }
  /** The CA pool's CRL file (`ca revoke` writes it; absent before the first revocation). */
  crlFile: string
}

/**
 * Returns the issuance of `identity` per its pool's certificate issuance config, with the
 * lifetime optionally overridden by a `--lifetime` flag (at least 2 s, so a rotation can happen).
 * Each issuance is logged on `log` at info with the SPIFFE ID, serial, not-after and generation.
 */
export async function openIdentityIssuance (config: SpiffeLbConfig, identity: SpiffeId, opts: { state?: string, lifetime?: string }, clock: Clock, log?: Logger): Promise<IdentityIssuance> {
  const { pool, cic, ca, caDir } = await openPoolIssuance(config, identity, { ...(opts.state === undefined ? {} : { stateDir: opts.state }), clock })
  const lifetimeMs = opts.lifetime === undefined ? cic.lifetimeMs : durationFlag('--lifetime', opts.lifetime, 2000, 'ERR_SPIFFE_CLI_LIFETIME')
  let generation = 0
  return {
    issue: async (p) => {
      const issued = await issueSvidCertificate(ca, { uri: identity.toString(), keyAlgorithm: cic.keyAlgorithm, ...p })
      generation++
      const notAfter = issued.cert.validToDate.toISOString()
      log?.info({ spiffeId: identity.toString(), serial: issued.serialHex, notAfter, generation },
        `svid ${generation === 1 ? 'issued' : 'rotated'}: ${identity.toString()} serial ${issued.serialHex}, not after ${notAfter}, generation ${generation}`)
      return issued
    },
    anchors: poolTrustAnchors(pool, ca),
    trustDomain: pool.trustDomain.name,
    rotation: { lifetimeMs, rotationWindowPercentage: cic.rotationWindowPercentage },
    crlFile: join(caDir, CA_FILES.crl)
  }
}

/** Returns a human summary of an issuance for the servers' start-up line. */
export function issuanceSummary (i: IdentityIssuance): string {
  return `(lifetime ${i.rotation.lifetimeMs / 1000}s, rotation at ${i.rotation.rotationWindowPercentage}%, trust domains: ${[...i.anchors.keys()].join(', ')})`
}
