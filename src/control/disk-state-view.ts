import { X509Certificate } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { ControlPlaneStateView } from '../config/state-view.ts'
import type { SpiffeLbConfig } from '../config/types.ts'
import { GCE_FILES } from '../credentials/gce-files.ts'
import { parsePem } from '../internal/pem.ts'
import { CA_FILES, caPoolsDir } from './ca-layout.ts'

/**
 * Returns the view of the files on disk: `<stateDir>/ca-pools/<poolId>/ca.pem` (the CA pool
 * layout of control/ca-layout.ts) and, for the `directory` source, the GCE credential files
 * `certificates.pem` (shown for the backend services whose identity is its leaf's URI SAN)
 * and `ca_certificates.pem` (the anchors of that leaf's trust domain).
 */
export function fileStateView (config: SpiffeLbConfig): ControlPlaneStateView {
  const { stateDir, directory, source } = config.credentials
  const delivered = async (): Promise<{ chain: string, uri: string } | undefined> => {
    if (source !== 'directory') return undefined
    const chain = await readOptional(join(directory, GCE_FILES.certificates))
    if (chain === undefined) return undefined
    try {
      const block = parsePem(chain, GCE_FILES.certificates).find((b) => b.type === 'CERTIFICATE')
      const san = block === undefined ? undefined : new X509Certificate(block.der).subjectAltName
      const uri = san?.split(', ').find((n) => n.startsWith('URI:'))?.slice(4)
      return uri === undefined ? undefined : { chain, uri }
    } catch {
      return undefined // half-written or foreign file: nothing to show
    }
  }
  return {
    caRootsPem: async (pool) => await readOptional(join(caPoolsDir(stateDir), pool.poolId, CA_FILES.cert)),
    certificatePem: async (svc) => {
      const d = await delivered()
      return d !== undefined && d.uri === svc.tlsSettings.identity?.spiffeId.toString() ? d.chain : undefined
    },
    trustDomainRootsPem: async (name) => {
      const d = await delivered()
      return d !== undefined && d.uri.startsWith(`spiffe://${name}/`) ? await readOptional(join(directory, GCE_FILES.caCertificates)) : undefined
    }
  }
}

async function readOptional (file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8')
  } catch {
    return undefined // absent (or unreadable): a read-only view shows what it can
  }
}
