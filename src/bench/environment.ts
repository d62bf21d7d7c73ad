import os from 'node:os'
import { packageVersion } from '../internal/package-version.ts'
import type { BenchEnvironment } from './report-model.ts'

/**
 * Returns the versions (spiffe-lb, Node, OpenSSL, undici) and machine facts (CPU model and
 * count, platform) a benchmark report records, with `startedAt` = now.
 */
export function benchEnvironment (now: Date = new Date()): BenchEnvironment {
  const cpus = os.cpus()
  return {
    spiffeLb: packageVersion(),
    node: process.version,
    openssl: process.versions.openssl,
    undici: packageVersion('undici/package.json'),
    platform: `${os.type()} ${os.release()}`,
    arch: process.arch,
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    cpus: cpus.length,
    startedAt: now.toISOString()
  }
}
