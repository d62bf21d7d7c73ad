/**
 * Inputs for test/http1-differential.test.ts: request smuggling vectors (each with the decision
 * the lean path must reach) and a seeded generator of mutated requests.
 */

/** One named input and whether the lean path must serve every message in it. */
export interface CorpusCase { name: string, input: string, accept: boolean }

const H = 'Host: a.test\r\n'

/** Request smuggling and parser-confusion vectors (RFC 9112 §6.3, §11.2 and known CVEs). */
export const corpus: CorpusCase[] = [
  { name: 'plain GET', input: `GET / HTTP/1.1\r\n${H}\r\n`, accept: true },
  { name: 'POST with Content-Length', input: `POST /p HTTP/1.1\r\n${H}Content-Length: 5\r\n\r\nhello`, accept: true },
  { name: 'chunked with extension and trailer', input: `POST /p HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n5;a=b\r\nhello\r\n0\r\nX-T: 1\r\n\r\n`, accept: true },
  { name: 'two pipelined requests', input: `GET /1 HTTP/1.1\r\n${H}\r\nGET /2 HTTP/1.1\r\n${H}\r\n`, accept: true },
  { name: 'HTTP/1.0 without Host', input: 'GET / HTTP/1.0\r\n\r\n', accept: true },
  { name: 'absolute-form target', input: `GET http://a.test/x?y HTTP/1.1\r\n${H}\r\n`, accept: true },
  { name: 'Expect: 100-continue', input: `POST / HTTP/1.1\r\n${H}Expect: 100-continue\r\nContent-Length: 1\r\n\r\nx`, accept: true },
  { name: 'WebSocket upgrade', input: `GET /ws HTTP/1.1\r\n${H}Connection: Upgrade\r\nUpgrade: websocket\r\n\r\nframe`, accept: true },
  { name: 'OPTIONS *', input: `OPTIONS * HTTP/1.1\r\n${H}\r\n`, accept: true },
  { name: 'CL.TE', input: `POST / HTTP/1.1\r\n${H}Content-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nG`, accept: false },
  { name: 'TE.CL', input: `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n8\r\nSMUGGLED\r\n0\r\n\r\n`, accept: false },
  { name: 'duplicate Content-Length, same value', input: `POST / HTTP/1.1\r\n${H}Content-Length: 1\r\nContent-Length: 1\r\n\r\nx`, accept: false },
  { name: 'duplicate Content-Length, different values', input: `POST / HTTP/1.1\r\n${H}Content-Length: 1\r\nContent-Length: 2\r\n\r\nxy`, accept: false },
  { name: 'Content-Length list', input: `POST / HTTP/1.1\r\n${H}Content-Length: 1, 1\r\n\r\nx`, accept: false },
  { name: 'Content-Length with sign', input: `POST / HTTP/1.1\r\n${H}Content-Length: +1\r\n\r\nx`, accept: false },
  { name: 'Content-Length hex', input: `POST / HTTP/1.1\r\n${H}Content-Length: 0x1\r\n\r\nx`, accept: false },
  { name: 'Content-Length overflow', input: `POST / HTTP/1.1\r\n${H}Content-Length: 99999999999999999999999\r\n\r\nx`, accept: false },
  { name: 'TE chunked twice', input: `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`, accept: false },
  { name: 'TE xchunked', input: `POST / HTTP/1.1\r\n${H}Transfer-Encoding: xchunked\r\n\r\n0\r\n\r\n`, accept: false },
  { name: 'TE chunked, identity', input: `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n`, accept: false },
  { name: 'TE with tab', input: `POST / HTTP/1.1\r\n${H}Transfer-Encoding:\tchunked\r\n\r\n0\r\n\r\n`, accept: true },
  { name: 'TE with space before colon', input: `POST / HTTP/1.1\r\n${H}Transfer-Encoding : chunked\r\n\r\n0\r\n\r\n`, accept: false },
  { name: 'TE with vertical tab', input: `POST / HTTP/1.1\r\n${H}Transfer-Encoding:\x0bchunked\r\n\r\n0\r\n\r\n`, accept: false },
  { name: 'TE folded', input: `POST / HTTP/1.1\r\n${H}Transfer-Encoding:\r\n chunked\r\n\r\n0\r\n\r\n`, accept: false },
  { name: 'TE CHUNKED uppercase', input: `POST / HTTP/1.1\r\n${H}Transfer-Encoding: CHUNKED\r\n\r\n0\r\n\r\n`, accept: true },
  { name: 'TE with HTTP/1.0', input: 'POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n', accept: true },
  { name: 'TE gzip only', input: `POST / HTTP/1.1\r\n${H}Transfer-Encoding: gzip\r\n\r\nx`, accept: false },
  { name: 'obs-fold', input: `GET / HTTP/1.1\r\n${H}X-A: a\r\n b\r\n\r\n`, accept: false },
  { name: 'bare LF line ends', input: 'GET / HTTP/1.1\nHost: a.test\n\n', accept: false },
  { name: 'bare CR', input: `GET / HTTP/1.1\r${H}\r\n`, accept: false },
  { name: 'bare LF after headers', input: `GET / HTTP/1.1\r\n${H}\n`, accept: false },
  { name: 'NUL in header value', input: `GET / HTTP/1.1\r\n${H}X-A: a\0b\r\n\r\n`, accept: false },
  { name: 'NUL in target', input: `GET /a\0b HTTP/1.1\r\n${H}\r\n`, accept: false },
  { name: 'space in header name', input: `GET / HTTP/1.1\r\n${H}X A: b\r\n\r\n`, accept: false },
  { name: 'header name with colon only', input: `GET / HTTP/1.1\r\n${H}: b\r\n\r\n`, accept: false },
  { name: 'DEL in header value', input: `GET / HTTP/1.1\r\n${H}X-A: a\x7fb\r\n\r\n`, accept: false },
  { name: 'oversized chunk size', input: `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n10000000000000000\r\n`, accept: false },
  { name: 'chunk size with leading space', input: `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n 1\r\na\r\n0\r\n\r\n`, accept: false },
  { name: 'chunk size with trailing space', input: `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n1 \r\na\r\n0\r\n\r\n`, accept: false },
  { name: 'chunk size negative', input: `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n-1\r\na\r\n0\r\n\r\n`, accept: false },
  { name: 'chunk without CRLF after data', input: `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n1\r\naX0\r\n\r\n`, accept: false },
  { name: 'chunk extension with bare LF', input: `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n1;a\nb\r\na\r\n0\r\n\r\n`, accept: false },
  { name: 'chunk extensions above 16 KiB', input: `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n1;${'x'.repeat(20000)}\r\na\r\n0\r\n\r\n`, accept: false },
  { name: 'quoted chunk extension with CRLF', input: `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n1;a="\r\n"\r\na\r\n0\r\n\r\n`, accept: false },
  { name: 'missing Host on HTTP/1.1', input: 'GET / HTTP/1.1\r\n\r\n', accept: false },
  { name: 'two Host headers', input: `GET / HTTP/1.1\r\n${H}Host: b.test\r\n\r\n`, accept: false },
  { name: 'Expect other than 100-continue', input: `POST / HTTP/1.1\r\n${H}Expect: 200-ok\r\nContent-Length: 1\r\n\r\nx`, accept: false },
  { name: 'CONNECT', input: `CONNECT a.test:443 HTTP/1.1\r\n${H}\r\n`, accept: false },
  { name: 'HTTP/1.2', input: `GET / HTTP/1.2\r\n${H}\r\n`, accept: false },
  { name: 'HTTP/0.9 style', input: 'GET /\r\n\r\n', accept: false },
  { name: 'HTTP/2 in request line', input: `GET / HTTP/2.0\r\n${H}\r\n`, accept: false },
  { name: 'lowercase method', input: `get / HTTP/1.1\r\n${H}\r\n`, accept: false },
  { name: 'unknown method', input: `FOO / HTTP/1.1\r\n${H}\r\n`, accept: false },
  // llhttp takes a doubled space before the target; the proxy re-serialises the request line.
  { name: 'two spaces in request line', input: `GET  / HTTP/1.1\r\n${H}\r\n`, accept: true },
  { name: 'target without slash', input: `GET a HTTP/1.1\r\n${H}\r\n`, accept: false },
  { name: 'fragment in target', input: `GET /a#b HTTP/1.1\r\n${H}\r\n`, accept: true },
  { name: 'header too large', input: `GET / HTTP/1.1\r\n${H}X-A: ${'a'.repeat(20000)}\r\n\r\n`, accept: false },
  { name: 'GET with body by CL, pipelined', input: `GET / HTTP/1.1\r\n${H}Content-Length: 4\r\n\r\nabcdGET /x HTTP/1.1\r\n${H}\r\n`, accept: true },
  { name: 'Connection: close then pipelined', input: `GET / HTTP/1.1\r\n${H}Connection: close\r\n\r\nGET /2 HTTP/1.1\r\n${H}\r\n`, accept: false },
  { name: 'upgrade without Connection', input: `GET / HTTP/1.1\r\n${H}Upgrade: websocket\r\n\r\n`, accept: true },
  { name: 'truncated body', input: `POST / HTTP/1.1\r\n${H}Content-Length: 10\r\n\r\nabc`, accept: false },
  { name: 'truncated head', input: `GET / HTTP/1.1\r\n${H}`, accept: false }
]

/** Returns a deterministic pseudo-random generator (mulberry32) for `seed`. */
function prng (seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let x = Math.imul(a ^ (a >>> 15), 1 | a)
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296
  }
}

const BYTES = [' ', '\t', '\r', '\n', '\0', ':', ',', ';', '"', '0', '1', '9', 'a', 'F', 'x', '-', '/', '?', '\x0b', '\x7f', '\x80', '\xff']
const INSERTS = [
  '\r\n', '\n', '\r', ' ', '\t', 'Content-Length: 5\r\n', 'Content-Length: 0\r\n', 'Content-Length: 1, 1\r\n',
  'Transfer-Encoding: chunked\r\n', 'Transfer-Encoding: identity\r\n', 'Transfer-Encoding: gzip, chunked\r\n',
  ' chunked', ', chunked', 'Host: b.test\r\n', 'Expect: 100-continue\r\n', 'Expect: x\r\n', 'Connection: close\r\n',
  'Connection: keep-alive\r\n', 'Upgrade: websocket\r\nConnection: Upgrade\r\n', '\r\n\r\n', '0\r\n\r\n',
  'ffffffffffffffffff', ';ext=v', ';e="q"', 'HTTP/1.0', 'HTTP/1.1', 'http://a.test', '%2F', 'GET / HTTP/1.1\r\nHost: c\r\n\r\n'
]
const BASES = corpus.filter((c) => c.accept).map((c) => c.input)

/** Yields `count` mutations of the corpus's valid requests, the same ones for the same seed. */
export function mutations (seed: number, count: number): Generator<string> {
  return mutate(BASES, seed, count)
}

/** Yields `count` mutations of `bases` (byte swaps, inserted fields and tokens, deletions, repeated lines, case changes). */
export function * mutate (bases: readonly string[], seed: number, count: number): Generator<string> {
  const rand = prng(seed)
  const pick = <T>(list: readonly T[]): T => list[Math.floor(rand() * list.length)] as T
  for (let n = 0; n < count; n++) {
    let s = pick(bases)
    const edits = 1 + Math.floor(rand() * 3)
    for (let e = 0; e < edits; e++) {
      const at = Math.floor(rand() * (s.length + 1))
      switch (Math.floor(rand() * 5)) {
        case 0: s = s.slice(0, at) + pick(BYTES) + s.slice(at + 1); break
        case 1: s = s.slice(0, at) + pick(INSERTS) + s.slice(at); break
        case 2: s = s.slice(0, at) + s.slice(at + 1 + Math.floor(rand() * 4)); break
        case 3: {
          // Repeat the header line under the cursor (duplicate fields are where proxies disagree).
          const start = s.lastIndexOf('\r\n', at) + 2
          const end = s.indexOf('\r\n', at)
          if (start > 1 && end > start) s = s.slice(0, end + 2) + s.slice(start, end + 2) + s.slice(end + 2)
          break
        }
        default: s = s.slice(0, at) + s.slice(at, at + 8).toUpperCase() + s.slice(at + 8)
      }
    }
    yield s
  }
}
