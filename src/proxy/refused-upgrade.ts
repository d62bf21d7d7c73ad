/**
 * A backend's answer other than 101 to an upgrade request: relayed to the client as one ordinary
 * HTTP/1.1 response (its status, its end-to-end headers, its body framed by Content-Length or
 * chunked), then both connections are closed. The client connection left Node's HTTP parser
 * when the upgrade was requested, and the backend connection may still expect requests
 * (nginx answers 200 keep-alive): piping one to the other would let every later request skip
 * routing, path normalisation, the forwarded headers and the access log.
 */
import type { IncomingMessage } from 'node:http'
import { http } from '../internal/node-http.ts'
import type { Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import { UPGRADE_REFUSED_LINGER_MS } from '../defaults.ts'
import { connectionTokens, isHopByHop } from './headers.ts'

const { STATUS_CODES } = http

/** How relaying the refused answer ended. */
export interface RefusedUpgradeEnd {
  /** False when the backend's body was cut short (the client sees an unterminated body). */
  completed: boolean
  error?: string
}

/**
 * Writes `res` (the backend's non-101 answer to `method`) to `client`, then ends `client` and
 * destroys `backend`. Calls `done` once, when the body is relayed or either side failed.
 */
export function relayRefusedUpgrade (res: IncomingMessage, method: string, client: Duplex, backend: Socket,
  done: (end: RefusedUpgradeEnd) => void): void {
  const status = res.statusCode ?? 502
  const bodyless = method === 'HEAD' || status === 204 || status === 304 || status < 200
  const drop = connectionTokens(res.rawHeaders.filter((_v, i) => i % 2 === 1 && res.rawHeaders[i - 1]?.toLowerCase() === 'connection'))
  let head = `HTTP/1.1 ${status} ${res.statusMessage ?? STATUS_CODES[status] ?? ''}\r\n`
  for (let i = 0; i + 1 < res.rawHeaders.length; i += 2) {
    const name = res.rawHeaders[i] ?? ''
    if (isHopByHop(name.toLowerCase(), drop)) continue
    head += `${name}: ${res.rawHeaders[i + 1] ?? ''}\r\n`
  }
  // Node's parser has already undone the backend's framing; a body of unknown length is
  // chunked so that a cut is visible to the client.
  const chunked = !bodyless && res.headers['content-length'] === undefined
  if (chunked) head += 'transfer-encoding: chunked\r\n'
  client.write(`${head}connection: close\r\n\r\n`)

  let finished = false
  const finish = (end: RefusedUpgradeEnd): void => {
    if (finished) return
    finished = true
    backend.destroy()
    if (end.completed) close(client)
    else client.destroy()
    done(end)
  }
  res.on('data', (chunk: Buffer) => {
    if (bodyless || chunk.length === 0) return
    const ok = client.write(chunked ? Buffer.concat([Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from('\r\n')]) : chunk)
    if (!ok) { res.pause(); client.once('drain', () => { res.resume() }) }
  })
  res.once('end', () => {
    if (chunked) client.write('0\r\n\r\n')
    finish({ completed: true })
  })
  res.once('close', () => {
    if (!res.complete) finish({ completed: false, error: 'backend closed the connection before its answer to the upgrade ended' })
  })
  res.once('error', (err: Error) => { finish({ completed: false, error: `backend answer to the upgrade failed: ${err.message}` }) })
  client.once('close', () => { finish({ completed: false, error: 'client closed the connection' }) })
}

/**
 * Ends `client` after the response, still reading (and dropping) what the client sends so the
 * close is not a reset that could discard the response; cut after a short linger.
 */
function close (client: Duplex): void {
  client.resume()
  client.end()
  const timer = setTimeout(() => { client.destroy() }, UPGRADE_REFUSED_LINGER_MS)
  timer.unref()
  client.once('close', () => { clearTimeout(timer) })
}
