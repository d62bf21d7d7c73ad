import t from 'tap'
import type { CredentialSnapshot } from '../credentials/credential-snapshot.ts'
import { RotationLog } from './rotation-log.ts'

/** The fields RotationLog reads of a snapshot. */
function snapshot (fingerprint: string, serial: string, loadedAt: number): CredentialSnapshot {
  return {
    svidFingerprint: fingerprint,
    loadedAt,
    svid: { id: { toString: () => 'spiffe://td.example/lb' }, leaf: { serialNumber: serial }, notAfter: loadedAt + 3_600_000 }
  } as unknown as CredentialSnapshot
}

t.test('one entry per new SVID, bundle-only changes skipped, the oldest dropped past the bound', async (t) => {
  const log = new RotationLog(2)
  log.record(snapshot('a', '0A', Date.UTC(2026, 0, 1)))
  log.record(snapshot('a', '0A', Date.UTC(2026, 0, 1, 1))) // the same SVID, new bundles
  t.same(log.list(), [{ at: '2026-01-01T00:00:00.000Z', spiffeId: 'spiffe://td.example/lb', serial: '0a', notAfter: '2026-01-01T01:00:00.000Z' }])
  log.record(snapshot('b', '0B', Date.UTC(2026, 0, 1, 2)))
  log.record(snapshot('c', '0C', Date.UTC(2026, 0, 1, 3)))
  t.same(log.list().map((e) => e.serial), ['0b', '0c'])
})
