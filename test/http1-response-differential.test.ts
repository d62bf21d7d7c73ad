/**
 * Differential test of backend response parsing: node:http's client (strict) and the lean
 * transport's parser get the same response bytes (framing vectors and seeded mutations) and
 * must agree on accept/reject, status, headers and the body of the final response; where they
 * differ, the lean path must be the one that refuses.
 */
import { request, type IncomingMessage } from 'node:http'
import { Duplex } from 'node:stream'
import t from 'tap'
import { Http1Parser } from '../src/proxy/http1/http1-parser.ts'
import { mutate } from './http1-corpus.ts'

interface Answer { head?: string, body: string, complete: boolean, error?: string }

/** The lean transport's reading: the first final (non-1xx) response, 101 refused, up to EOF. */
function lean (input: Buffer): Answer {
  const out: Answer = { body: '', complete: false }
  let final = false
  let done = false
  const p = new Http1Parser('response', 16384, {
    head: (h) => {
      if (done) return true
      if (h.statusCode === 101) { out.error = 'upgrade'; done = true; return true }
      if (h.statusCode < 200) return false
      final = true
      out.head = JSON.stringify([h.statusCode, h.statusMessage, `${h.versionMajor}.${h.versionMinor}`, h.rawHeaders])
      return false
    },
    body: (c) => { if (final && !done) out.body += c.toString('latin1') },
    complete: () => { if (final && !done) { out.complete = true; done = true } }
  })
  const r = p.execute(input)
  if (typeof r !== 'number') { if (!done) out.error = r.code } else if (!done) {
    const f = p.finish()
    if (f !== undefined) out.error = f.code
  }
  p.free()
  return out
}

class FakeSocket extends Duplex {
  override _read (): void {}
  override _write (_c: Buffer, _e: BufferEncoding, cb: () => void): void { cb() }
  setTimeout (): this { return this }
  setNoDelay (): this { return this }
  setKeepAlive (): this { return this }
  ref (): this { return this }
  unref (): this { return this }
}

/** node:http's client reading the same bytes as the answer to a GET. */
async function node (input: Buffer): Promise<Answer> {
  const out: Answer = { body: '', complete: false }
  const socket = new FakeSocket()
  await new Promise<void>((resolve) => {
    let settled = false
    const settle = (): void => { if (!settled) { settled = true; resolve() } }
    let response: IncomingMessage | undefined
    const req = request({ createConnection: () => socket as never, method: 'GET', path: '/', headers: { host: 'b' } })
    req.on('response', (res) => {
      response = res
      out.head = JSON.stringify([res.statusCode, res.statusMessage, res.httpVersion, res.rawHeaders])
      res.on('data', (c: Buffer) => { out.body += c.toString('latin1') })
      res.on('end', () => { out.complete = res.complete; settle() })
      res.on('error', (e: Error & { code?: string }) => { if (!res.complete) out.error ??= e.code ?? e.message; settle() })
      res.on('aborted', () => { if (!res.complete) out.error ??= 'aborted'; settle() })
    })
    req.on('upgrade', (_res, s: Duplex) => { out.error = 'upgrade'; s.destroy(); settle() })
    // Bytes after a complete response fail the connection, not the response: the lean
    // transport likewise delivers it and closes the connection instead of reusing it.
    req.on('error', (e: Error & { code?: string }) => {
      if (response?.complete === true) return
      out.error ??= e.code ?? e.message
      settle()
    })
    req.end()
    setImmediate(() => { socket.push(input); socket.push(null) })
    setTimeout(settle, 200)
  })
  socket.destroy()
  return out
}

/** Returns undefined when both agree, `stricter` when only the lean path refused, else what differs. */
function compare (l: Answer, n: Answer): string | undefined {
  const lok = l.error === undefined && l.complete
  const nok = n.error === undefined && n.complete
  if (lok && !nok) return `MISMATCH: node:http refused (${n.error ?? 'incomplete'}), lean accepted`
  if (!lok && nok) return `stricter: ${l.error ?? 'incomplete'}`
  if (!lok) return undefined
  if (l.head !== n.head) return `MISMATCH: head lean ${l.head ?? ''} node ${n.head ?? ''}`
  if (l.body !== n.body) return `MISMATCH: body lean ${JSON.stringify(l.body)} node ${JSON.stringify(n.body)}`
  return undefined
}

const RESPONSES = [
  'HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello',
  'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;e=1\r\nhello\r\n0\r\nX-T: 1\r\n\r\n',
  'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil close',
  'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok',
  'HTTP/1.1 204 No Content\r\nServer: x\r\n\r\n',
  'HTTP/1.1 304 Not Modified\r\nETag: "a"\r\n\r\n',
  'HTTP/1.0 200 OK\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\n\r\nold'
]
const VECTORS = [
  'HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
  'HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab',
  'HTTP/1.1 200 OK\r\nX: a\r\n b\r\nContent-Length: 0\r\n\r\n',
  'HTTP/1.1 200 OK\nContent-Length: 0\n\n',
  'HTTP/1.1 200 OK\r\nX: a\0b\r\nContent-Length: 0\r\n\r\n',
  'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffff\r\n',
  'HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort',
  'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n',
  'HTTP/1.1 999 Odd\r\nContent-Length: 0\r\n\r\n',
  'HTTP/2 200\r\nContent-Length: 0\r\n\r\n'
]

t.test('response framing: the lean parser agrees with node:http\'s client, or refuses', async (t) => {
  const stricter: string[] = []
  const mismatches: string[] = []
  let same = 0
  const inputs = [...RESPONSES, ...VECTORS, ...mutate(RESPONSES, 0xbac4, 1500)]
  for (const input of inputs) {
    const buf = Buffer.from(input, 'latin1')
    const diff = compare(lean(buf), await node(buf))
    if (diff === undefined) same++
    else if (diff.startsWith('stricter')) stricter.push(`${diff}: ${JSON.stringify(input)}`)
    else if (mismatches.length < 10) mismatches.push(`${diff}\n  input: ${JSON.stringify(input)}`)
  }
  for (const m of mismatches) t.comment(m)
  t.equal(mismatches.length, 0, 'no response the lean path reads more laxly or differently than node:http')
  t.ok(same > inputs.length / 2, `most responses decided identically (${same} of ${inputs.length})`)
  for (const v of RESPONSES) t.match(lean(Buffer.from(v, 'latin1')), { complete: true, error: undefined }, `read completely: ${JSON.stringify(v.slice(0, 24))}`)
  t.comment(`lean stricter on ${stricter.length}:\n${stricter.slice(0, 15).join('\n')}`)
})
