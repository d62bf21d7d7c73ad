import t from 'tap'
import type { Socket } from 'node:net'
import type { MessageHead } from './http1/http1-parser.ts'
import { LeanRequest } from './lean-request.ts'

const head = (rawHeaders: string[], upgrade = false): MessageHead => ({
  versionMajor: 1, versionMinor: 1, rawHeaders, method: 'POST', url: '/', statusCode: 0, statusMessage: '', upgrade, keepAlive: true
})

// The fields read in the head scan must say what `headers` (node:http's rules) says.
const cases: Array<[string, string[], boolean?]> = [
  ['none', []],
  ['host and type', ['Host', 'a.test', 'Content-Type', 'application/grpc+proto']],
  ['repeated host and type: the first wins', ['host', 'first', 'HOST', 'second', 'content-type', 'text/plain', 'Content-Type', 'application/grpc']],
  ['a content length', ['Content-Length', '5']],
  ['a zero content length', ['Content-Length', '0']],
  ['a padded zero', ['content-length', ' 0 ']],
  ['chunked', ['Transfer-Encoding', 'chunked']],
  ['an upgrade with a length has no body here', ['Content-Length', '5', 'Upgrade', 'websocket'], true],
  ['same-length names that are not the fields', ['Hoss', 'x', 'Content-Typo', 'y', 'Content-Lengths', '1', 'Transfer-Encodinh', 'z']]
]

t.test('host, content type and body framing agree with the headers object', async (t) => {
  for (const [name, raw, upgrade] of cases) {
    const req = new LeanRequest(head(raw, upgrade === true), {} as Socket, false, () => {})
    const h = req.headers
    t.equal(req.host, h.host, `${name}: host`)
    t.equal(req.contentType, h['content-type'], `${name}: content type`)
    const cl = h['content-length']
    const framed = upgrade !== true && (h['transfer-encoding'] !== undefined || (cl !== undefined && cl.trim() !== '0'))
    t.equal(req.hasBody, framed, `${name}: body`)
    t.equal(req.complete, !framed, `${name}: complete`)
  }
})
