/**
 * The baseline of `bench proxy`: the minimal HTTPS forwarder a Node user would
 * write — a `node:http` server handing every request to an undici `Pool` whose connections use ONE
 * shared `SecureContext` (client certificate and key) and `rejectUnauthorized: false` (no SPIFFE
 * verification at all), streaming the response back. Runs as a child process:
 *
 *   node src/bench/proxy/undici-forwarder.ts --listen 127.0.0.1:0 --backend 127.0.0.1:PORT \
 *     --cert F --key F --mode fresh|resumed|pooled
 *
 * and prints `listening on HOST:PORT` once ready; SIGTERM/SIGINT stop it.
 */
import { realpathSync } from 'node:fs'
import { benchError } from '../errors.ts'
import { readFile } from 'node:fs/promises'
import { http } from '../../internal/node-http.ts'
import type { AddressInfo } from 'node:net'
import { pipeline } from 'node:stream/promises'
import tls from 'node:tls'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { Pool } from 'undici'
import { formatHostPort, parseHostPort } from '../../internal/host-port.ts'

/** What the forwarder does with backend connections (the `bench proxy` modes). */
export type ForwarderMode = 'fresh' | 'resumed' | 'pooled'

/** Options of {@link startUndiciForwarder}. */
export interface UndiciForwarderOptions {
  listen: string
  backend: string
  certPem: string
  keyPem: string
  mode: ForwarderMode
  /** Offer h2 by ALPN (undici `allowH2`): streams multiplexed on pooled connections. Default false. */
  h2?: boolean
}

/** A running forwarder. */
export interface UndiciForwarder {
  host: string
  port: number
  close: () => Promise<void>
}

// Hop-by-hop headers (RFC 9110 section 7.6.1): undici refuses some of them in a request, and none
// of them may be forwarded in either direction.
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer'])

/**
 * Starts the forwarder in this process and resolves once it listens. Modes: `fresh` = a new
 * backend connection per request (`reset: true`) with undici's session cache off
 * (`maxCachedSessions: 0`), so every connection is a full handshake; `resumed` = a new
 * connection per request with undici's default session cache; `pooled` = keep-alive.
 */
export async function startUndiciForwarder (options: UndiciForwarderOptions): Promise<UndiciForwarder> {
  const backend = parseHostPort(options.backend, 'ERR_SPIFFE_BENCH_BAD_OPTION', 1, benchError)
  const listen = parseHostPort(options.listen, 'ERR_SPIFFE_BENCH_BAD_OPTION', 0, benchError)
  const secureContext = tls.createSecureContext({ cert: options.certPem, key: options.keyPem })
  const origin = `https://${formatHostPort(backend.host, backend.port)}`
  const pool = new Pool(origin, {
    // The backend offers h2 too; the baseline speaks the protocol the proxy under test speaks.
    allowH2: options.h2 === true,
    connect: {
      secureContext,
      rejectUnauthorized: false,
      ...(options.mode === 'fresh' ? { maxCachedSessions: 0 } : {})
    }
  })
  const reset = options.mode !== 'pooled'
  const server = http.createServer((req, res) => {
    const headers: Record<string, string | string[]> = {}
    for (const [name, value] of Object.entries(req.headers)) {
      if (value !== undefined && !HOP_BY_HOP.has(name)) headers[name] = value
    }
    const hasBody = req.method !== 'GET' && req.method !== 'HEAD'
    pool.request({ origin, path: req.url ?? '/', method: (req.method ?? 'GET') as 'GET', headers, body: hasBody ? req : null, reset })
      .then(async (up) => {
        const out: Record<string, string | string[]> = {}
        for (const [name, value] of Object.entries(up.headers)) {
          if (value !== undefined && !HOP_BY_HOP.has(name)) out[name] = value
        }
        res.writeHead(up.statusCode, out)
        await pipeline(up.body, res)
      })
      .catch((err: unknown) => {
        if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' }).end(`bad gateway: ${(err as Error).message}\n`)
        else res.destroy()
      })
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(listen.port, listen.host, () => { server.off('error', reject); resolve() })
  })
  const address = server.address() as AddressInfo
  return {
    host: address.address,
    port: address.port,
    close: async () => {
      server.closeAllConnections()
      await new Promise<void>((resolve) => { server.close(() => { resolve() }) })
      await pool.destroy()
    }
  }
}

/** Returns the argv (after the Node executable) that runs this forwarder as a child process. */
export function undiciForwarderArgs (options: { listen: string, backend: string, certFile: string, keyFile: string, mode: ForwarderMode, h2?: boolean }): string[] {
  // This very file: the source when we run from source, the compiled one when built.
  return [
    fileURLToPath(import.meta.url),
    '--listen', options.listen, '--backend', options.backend,
    '--cert', options.certFile, '--key', options.keyFile, '--mode', options.mode,
    ...(options.h2 === true ? ['--h2'] : [])
  ]
}

async function main (argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      listen: { type: 'string', default: '127.0.0.1:0' },
      backend: { type: 'string' },
      cert: { type: 'string' },
      key: { type: 'string' },
      mode: { type: 'string', default: 'pooled' },
      h2: { type: 'boolean', default: false }
    }
  })
  const mode = values.mode
  if (values.backend === undefined || values.cert === undefined || values.key === undefined ||
      (mode !== 'fresh' && mode !== 'resumed' && mode !== 'pooled')) {
    process.stderr.write('usage: undici-forwarder --listen HOST:PORT --backend HOST:PORT --cert FILE --key FILE --mode fresh|resumed|pooled [--h2]\n')
    process.exitCode = 2
    return
  }
  const forwarder = await startUndiciForwarder({
    listen: values.listen,
    backend: values.backend,
    certPem: await readFile(values.cert, 'utf8'),
    keyPem: await readFile(values.key, 'utf8'),
    mode,
    h2: values.h2
  })
  const host = forwarder.host.includes(':') ? `[${forwarder.host}]` : forwarder.host
  process.stdout.write(`listening on ${formatHostPort(host, forwarder.port)}\n`)
  const stop = (): void => {
    process.off('SIGTERM', stop)
    process.off('SIGINT', stop)
    forwarder.close().catch(() => {})
  }
  process.on('SIGTERM', stop)
  process.on('SIGINT', stop)
}

/** True when this file is the process's entry script (not when it is imported). */
function isMain (): boolean {
  const entry = process.argv[1]
  if (entry === undefined) return false
  try {
    return realpathSync(entry) === realpathSync(fileURLToPath(import.meta.url))
  } catch {
    return false
  }
}

if (isMain()) {
  main(process.argv.slice(2)).catch((err: unknown) => {
    process.stderr.write(`undici-forwarder: ${(err as Error).message}\n`)
    process.exitCode = 1
  })
}
