import { writeFile } from 'node:fs/promises'
import { benchError } from '../errors.ts'
import { createServer } from 'node:net'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { parsePem, toPem } from '../../internal/pem.ts'
import type { BenchPki } from '../bench-pki.ts'
import { spiffeLbChild, startChild } from '../child-process.ts'
import type { BenchChild } from '../child-process.ts'
import { openBackendStats } from '../backend-stats.ts'
import type { StatsSnapshot } from '../backend-stats.ts'
import { formatHostPort, parseHostPort } from '../../internal/host-port.ts'

/** A server the handshake bench connects to. */
export interface HandshakeTarget {
  /** `spiffe-lb backend`, `openssl s_server`, or the address given. */
  label: string
  host: string
  port: number
  /**
   * Reads the target's counters once they settled, when it has them (only `spiffe-lb backend`),
   * with the reader's own connections already subtracted.
   */
  stats?: () => Promise<StatsSnapshot>
  stop (): Promise<void>
}

/**
 * Starts `spiffe-lb backend` as a child process (the measuring process must not serve) with the
 * server SVID of `pki`, trusting the client's trust domain. Resolves once it listens.
 */
export async function startSpiffeLbTarget (pki: BenchPki): Promise<HandshakeTarget> {
  const child = await startChild({
    ...spiffeLbChild('spiffe-lb backend', 'backend', '--listen', '127.0.0.1:0', '--cert', pki.server.certFile, '--key', pki.server.keyFile,
      '--bundle', `${pki.trustDomain.name}=${pki.rootFile}`)
  })
  const { host, port } = parseHostPort(child.announced?.address ?? '', 'ERR_SPIFFE_BENCH_CHILD_FAILED', 1, benchError)
  const stats = openBackendStats(formatHostPort(host, port), pki.client.chainPem, pki.client.keyPem)
  return {
    label: 'spiffe-lb backend',
    host,
    port,
    stats: async () => await stats.settle(),
    stop: async () => { await stats.close(); await child.stop() }
  }
}

/**
 * Starts `openssl s_server` (the system's OpenSSL) with the server SVID of `pki`, requiring a
 * client certificate that chains to the root (`-Verify`). `-www` keeps it serving one connection
 * after another; the bench never sends a request. s_server handles one connection at a time.
 */
export async function startOpensslTarget (pki: BenchPki, dir: string): Promise<HandshakeTarget> {
  const blocks = parsePem(pki.server.chainPem, pki.server.certFile).filter((b) => b.type === 'CERTIFICATE')
  const leafFile = join(dir, 'openssl-leaf.pem')
  await writeFile(leafFile, toPem('CERTIFICATE', blocks[0]?.der ?? new Uint8Array()))
  const args = ['s_server', '-accept', '', '-cert', leafFile, '-key', pki.server.keyFile, '-CAfile', pki.rootFile, '-Verify', '3', '-www']
  if (blocks.length > 1) {
    const chainFile = join(dir, 'openssl-chain.pem')
    await writeFile(chainFile, blocks.slice(1).map((b) => toPem('CERTIFICATE', b.der)).join(''))
    args.push('-cert_chain', chainFile)
  }
  // s_server cannot listen on port 0 and tell us the port: take a free one, retry if it is gone.
  let child: BenchChild | undefined
  let port = 0
  for (let attempt = 0; child === undefined; attempt++) {
    port = await freePort()
    args[2] = formatHostPort('127.0.0.1', port)
    try {
      child = await startChild({ name: 'openssl s_server', command: 'openssl', args, ready: /^ACCEPT/ })
    } catch (err) {
      if (attempt >= 2) throw err
    }
  }
  const running = child
  return { label: 'openssl s_server', host: '127.0.0.1', port, stop: () => running.stop() }
}

/** Returns a target for a server the user runs at `host:port` (nothing to start or stop). */
export function addressTarget (host: string, port: number): HandshakeTarget {
  return { label: 'address', host, port, stop: async () => {} }
}

async function freePort (): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', resolve)
  })
  const { port } = server.address() as AddressInfo
  await new Promise<void>((resolve) => server.close(() => { resolve() }))
  return port
}

