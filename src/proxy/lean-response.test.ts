import t from 'tap'
import type { Socket } from 'node:net'
import { Writable } from 'node:stream'
import type { MessageHead } from './http1/http1-parser.ts'
import { LeanRequest } from './lean-request.ts'
import { LeanResponse } from './lean-response.ts'

/** A client socket that keeps what is written to it. */
function sink (): { socket: Socket, text: () => string } {
  const chunks: Buffer[] = []
  const w = new Writable({ write (chunk: Buffer, _enc, cb) { chunks.push(chunk); cb() } })
  return { socket: w as unknown as Socket, text: () => Buffer.concat(chunks).toString('latin1') }
}

function respond (method: string, versionMinor: number): { res: LeanResponse, text: () => string } {
  const head: MessageHead = { versionMajor: 1, versionMinor, rawHeaders: [], method, url: '/', statusCode: 0, statusMessage: '', upgrade: false, keepAlive: true }
  const out = sink()
  const req = new LeanRequest(head, out.socket, false, () => {})
  return { res: new LeanResponse(req, out.socket, () => {}), text: out.text }
}

// Relayed fields are written in the backend's order and spelling; framing follows from them.
const cases: Array<{ name: string, method?: string, minor?: number, fields: string[], set?: Array<[string, string]>, body: string, want: string }> = [
  {
    name: 'a Content-Length among the fields frames the body',
    fields: ['Content-Type', 'text/plain', 'Content-Length', '2', 'set-cookie', 'a=1', 'Set-Cookie', 'b=2'],
    body: 'hi',
    want: 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\nset-cookie: a=1\r\nSet-Cookie: b=2\r\n\r\nhi'
  },
  {
    name: 'no length: chunked for an HTTP/1.1 client',
    fields: ['x-a', '1'],
    body: 'hi',
    want: 'HTTP/1.1 200 OK\r\nx-a: 1\r\ntransfer-encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\n\r\n'
  },
  {
    name: 'no length: close-delimited for an HTTP/1.0 client',
    minor: 0,
    fields: ['x-a', '1'],
    body: 'hi',
    want: 'HTTP/1.1 200 OK\r\nx-a: 1\r\nconnection: close\r\n\r\nhi'
  },
  {
    name: 'a field set with setHeader is written once, with that value',
    fields: ['Grpc-Status', '0', 'content-length', '0', 'x-a', '1'],
    set: [['grpc-status', '14']],
    body: '',
    want: 'HTTP/1.1 200 OK\r\ngrpc-status: 14\r\ncontent-length: 0\r\nx-a: 1\r\n\r\n'
  },
  {
    name: 'a HEAD answer has the length and no body',
    method: 'HEAD',
    fields: ['content-length', '5'],
    body: '',
    want: 'HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\n'
  }
]

t.test('relayed fields: order, spelling, framing and setHeader precedence', async (t) => {
  for (const c of cases) {
    const { res, text } = respond(c.method ?? 'GET', c.minor ?? 1)
    res.forward(c.fields)
    for (const [name, value] of c.set ?? []) res.setHeader(name, value)
    res.writeHead(200)
    if (c.body !== '') res.write(c.body)
    res.end()
    t.equal(text(), c.want, c.name)
  }
})
