import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import os from 'node:os'
import type { BenchEnvironment } from './report.ts'

const require = createRequire(import.meta.url)

/** Returns the `version` field of an installed package (or of spiffe-lb itself), `unknown` if unreadable. */
function packageVersion (spec: string): string {
  try {
    const file = require.resolve(spec)
    const parsed: unknown = JSON.parse(readFileSync(file, 'utf8'))
    const version = (parsed as { version?: unknown }).version
    return typeof version === 'string' ? version : 'unknown'
  } catch {
    return 'unknown'
  }
}

/**
 * Returns the versions (spiffe-lb, Node, OpenSSL, undici) and machine facts (CPU model and
 * count, platform) a benchmark report records, with `startedAt` = now.
 */
export function benchEnvironment (now: Date = new Date()): BenchEnvironment {
  const cpus = os.cpus()
  return {
    spiffeLb: packageVersion('../../package.json'),
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
