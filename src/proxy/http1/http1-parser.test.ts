import t from 'tap'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { HTTP_METHODS, HTTPParser, Http1Parser, type MessageHead, type ParseError } from './http1-parser.ts'

interface Parsed { heads: MessageHead[], bodies: string[], complete: number, trailers: Array<readonly string[]>, result: number | ParseError, finish?: ParseError | undefined }

function parse (kind: 'request' | 'response', input: string, opts: { noBody?: boolean, finish?: boolean, maxHeaderSize?: number } = {}): Parsed {
  const out: Parsed = { heads: [], bodies: [], complete: 0, trailers: [], result: 0 }
  const p = new Http1Parser(kind, opts.maxHeaderSize ?? 16384, {
    head: (h) => { out.heads.push(h); out.bodies.push(''); return opts.noBody === true },
    body: (c) => { out.bodies[out.bodies.length - 1] += c.toString('latin1') },
    complete: (tr) => { out.complete++; out.trailers.push(tr) }
  })
  out.result = p.execute(Buffer.from(input, 'latin1'))
  if (opts.finish === true && typeof out.result === 'number') out.finish = p.finish()
  p.free()
  return out
}

// If any of these fail after a Node upgrade, the binding node:http drives changed shape: read
// the new lib/_http_common.js and src/node_http_parser.cc, adapt http1-parser.ts, and re-run
// test/http1-differential.test.ts before trusting the lean data path again.
t.test('pin: the llhttp binding has the shape http1-parser.ts relies on', async (t) => {
  t.equal(typeof HTTPParser, 'function', '_http_common still exports HTTPParser')
  for (const k of ['REQUEST', 'RESPONSE', 'kOnHeaders', 'kOnHeadersComplete', 'kOnBody', 'kOnMessageComplete', 'kLenientNone'] as const) {
    t.equal(typeof HTTPParser[k], 'number', `HTTPParser.${k} is a number`)
  }
  t.equal(HTTPParser.kLenientNone, 0, 'strict mode is flag 0')
  for (const m of ['initialize', 'execute', 'finish', 'free', 'close']) {
    t.equal(typeof (HTTPParser.prototype as unknown as Record<string, unknown>)[m], 'function', `HTTPParser.prototype.${m}`)
  }
  t.ok(HTTP_METHODS.includes('GET') && HTTP_METHODS.includes('PATCH') && HTTP_METHODS.includes('CONNECT'), 'methods table')
  const input = 'PUT /a?b HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\nhi'
  const r = parse('request', input)
  t.equal(r.result, input.length, 'execute returns the bytes consumed')
  const upgrade = 'GET /ws HTTP/1.1\r\nHost: h\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n'
  const u = parse('request', `${upgrade}FRAME`)
  t.equal(u.result, upgrade.length, 'after an upgrade head execute stops: the rest is the tunnel')
  t.equal(u.heads[0]?.upgrade, true)
  t.match(r.heads[0], { versionMajor: 1, versionMinor: 1, method: 'PUT', url: '/a?b', rawHeaders: ['Host', 'h', 'Content-Length', '2'], upgrade: false, keepAlive: true })
  t.same(r.bodies, ['hi'], 'kOnBody hands over the body bytes')
  t.equal(r.complete, 1, 'kOnMessageComplete fires')
  const resp = parse('response', 'HTTP/1.0 404 Not Here\r\nX: y\r\n\r\nbody', { finish: true })
  t.match(resp.heads[0], { versionMajor: 1, versionMinor: 0, statusCode: 404, statusMessage: 'Not Here', method: '', url: '', keepAlive: false })
  t.same(resp.bodies, ['body'], 'close-delimited body')
  t.equal(resp.complete, 1, 'finish() completes a close-delimited body')
  const bad = parse('request', 'GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n')
  t.match(bad.result, { code: /^HPE_/, bytesParsed: Number }, 'execute returns a coded error instead of throwing')
})

t.test('more than 32 header lines arrive in batches and are joined in order', async (t) => {
  let head = 'GET /many HTTP/1.1\r\nHost: h\r\n'
  for (let i = 0; i < 70; i++) head += `X-${i}: ${i}\r\n`
  const r = parse('request', `${head}\r\n`)
  t.equal(typeof r.result, 'number')
  const raw = r.heads[0]?.rawHeaders ?? []
  t.equal(raw.length, 142)
  t.same(raw.slice(0, 4), ['Host', 'h', 'X-0', '0'])
  t.same(raw.slice(-2), ['X-69', '69'])
  t.equal(r.heads[0]?.url, '/many')
})

t.test('strict mode refuses what a smuggler sends', async (t) => {
  const vectors: Record<string, string> = {
    'CL and TE': 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
    'duplicate CL': 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab',
    'obs-fold': 'GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n b\r\n\r\n',
    'bare LF': 'GET / HTTP/1.1\nHost: a\n\n',
    'NUL in value': 'GET / HTTP/1.1\r\nHost: a\r\nX: a\0b\r\n\r\n',
    'space in name': 'GET / HTTP/1.1\r\nHost: a\r\nX Y: a\r\n\r\n',
    'space before colon': 'GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding : chunked\r\n\r\n',
    'TE not chunked last': 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, gzip\r\n\r\n',
    'oversized chunk size': 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffffff1\r\n',
    'chunk size then space': 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n1 \r\na\r\n0\r\n\r\n'
  }
  for (const [name, input] of Object.entries(vectors)) {
    const r = parse('request', input)
    t.match(r.result, { code: /^HPE_/ }, name)
  }
})

t.test('responses: HEAD, 204, 304 and 1xx have no body; chunked is de-chunked', async (t) => {
  const head = parse('response', 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n', { noBody: true })
  t.equal(head.complete, 1, 'a HEAD answer ends at its head')
  const n204 = parse('response', 'HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n')
  t.equal(n204.complete, 1)
  const n304 = parse('response', 'HTTP/1.1 304 Not Modified\r\n\r\n')
  t.equal(n304.complete, 1)
  const info = parse('response', 'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3;x=y\r\nabc\r\n0\r\nT: v\r\n\r\n')
  t.same(info.heads.map((h) => h.statusCode), [100, 200])
  t.same(info.bodies, ['', 'abc'])
  t.equal(info.complete, 2)
  t.same(info.trailers, [[], ['T', 'v']], 'trailers are handed over at completion, not mixed into the next head')
  const cut = parse('response', 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nab', { finish: true })
  t.equal(cut.complete, 0)
  t.match(cut.finish, { code: /^HPE_/ }, 'a short body is an error at EOF')
})

t.test('maxHeaderSize is enforced by the parser', async (t) => {
  const r = parse('request', `GET / HTTP/1.1\r\nHost: a\r\nX: ${'a'.repeat(2000)}\r\n\r\n`, { maxHeaderSize: 1024 })
  t.match(r.result, { code: 'HPE_HEADER_OVERFLOW' })
})

// The C++ parser keeps its JS object, and through the callbacks everything they reach, until
// close(): a freed parser whose owner is gone must be collectable, or every connection leaks.
t.test('a freed parser lets go of what its callbacks reach', async (t) => {
  setFlagsFromString('--expose-gc')
  const gc = runInNewContext('gc') as () => void
  let collected = 0
  const registry = new FinalizationRegistry<string>(() => { collected++ })
  const owners = 20
  const parseOnce = (i: number): void => {
    const owner = { seen: 0 }
    const p = new Http1Parser('response', 16384, { head: () => { owner.seen++; return false }, body: () => {}, complete: () => {} })
    p.execute(Buffer.from('HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n', 'latin1'))
    registry.register(owner, `owner ${i}`)
    p.free()
  }
  for (let i = 0; i < owners; i++) parseOnce(i)
  // close() runs on the next turn; then collect until the finalizers ran (a bounded number of rounds).
  for (let round = 0; round < 50 && collected < owners; round++) {
    await new Promise((resolve) => setImmediate(resolve))
    gc()
  }
  t.equal(collected, owners, `every owner was collected after free() (${collected})`)
})

t.test('a freed parser parked mid-message starts clean for the next connection, of either kind', async (t) => {
  const stale: string[] = []
  for (let i = 0; i < 3; i++) {
    const old = new Http1Parser('request', 16384, {
      head: () => { stale.push('head'); return false },
      body: () => { stale.push('body') },
      complete: () => { stale.push('complete') }
    })
    // Freed inside a head and inside a chunked body: the parked state must not leak.
    old.execute(Buffer.from(i === 0 ? 'GET /half HTTP/1.1\r\nHo' : 'POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab', 'latin1'))
    old.free()
  }
  stale.length = 0
  await new Promise((resolve) => setImmediate(resolve))
  const response = parse('response', 'HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok')
  t.equal(response.heads[0]?.statusCode, 200, 'a request parser, parked, parses a response')
  t.same(response.bodies, ['ok'])
  t.equal(response.complete, 1)
  const request = parse('request', 'GET /next HTTP/1.1\r\nHost: h\r\n\r\n')
  t.equal(request.heads[0]?.url, '/next', 'and a request from its first byte')
  t.equal(request.complete, 1)
  t.same(stale, [], 'the freed parsers called none of their old callbacks')
})
