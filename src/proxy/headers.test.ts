import t from 'tap'
import { clientIp, downstreamRawHeaders, fieldList, fieldValue, hasFields, upstreamRequestHeaders } from './headers.ts'

const pairs = (flat: string[]): Array<[string, string]> => {
  const out: Array<[string, string]> = []
  for (let i = 0; i + 1 < flat.length; i += 2) out.push([flat[i]!, flat[i + 1]!])
  return out
}

t.test('drops hop-by-hop request headers and those Connection lists', async (t) => {
  const raw = [
    'Host', 'api.example.test:8080',
    'Connection', 'keep-alive, X-Secret-Hop',
    'connection', 'Other-Hop',
    'Keep-Alive', 'timeout=5',
    'Proxy-Authorization', 'Basic abc',
    'Proxy-Connection', 'keep-alive',
    'TE', 'trailers',
    'Trailer', 'Expires',
    'Transfer-Encoding', 'chunked',
    'Upgrade', 'websocket',
    'Expect', '100-continue',
    'X-Secret-Hop', '1',
    'other-hop', '2',
    'Accept', 'text/plain',
    'X-Custom', 'a',
    'x-custom', 'b'
  ]
  const got = pairs(upstreamRequestHeaders(raw, { clientAddress: '127.0.0.1', proto: 'http' }))
  t.same(got, [
    ['Host', 'api.example.test:8080'],
    ['TE', 'trailers'], // the one TE value that must reach gRPC servers
    ['Accept', 'text/plain'],
    ['X-Custom', 'a'],
    ['x-custom', 'b'],
    ['x-forwarded-for', '127.0.0.1'],
    ['x-forwarded-proto', 'http'],
    ['x-forwarded-host', 'api.example.test:8080'],
    ['x-real-ip', '127.0.0.1'],
    ['forwarded', 'for=127.0.0.1;proto=http;host="api.example.test:8080"']
  ])
})

t.test('HTTP/2 pseudo-headers are dropped and :authority becomes Host; TE other than trailers is dropped', async (t) => {
  const raw = [':method', 'POST', ':authority', 'grpc.test:8080', ':scheme', 'http', ':path', '/svc/M', 'te', 'gzip', 'content-type', 'application/grpc']
  t.same(pairs(upstreamRequestHeaders(raw, { clientAddress: '127.0.0.1', proto: 'http' })), [
    ['content-type', 'application/grpc'],
    ['host', 'grpc.test:8080'],
    ['x-forwarded-for', '127.0.0.1'],
    ['x-forwarded-proto', 'http'],
    ['x-forwarded-host', 'grpc.test:8080'],
    ['x-real-ip', '127.0.0.1'],
    ['forwarded', 'for=127.0.0.1;proto=http;host="grpc.test:8080"']
  ])
})

t.test('appends to X-Forwarded-For and overrides proto and host', async (t) => {
  const raw = [
    'host', 'a.test',
    'X-Forwarded-For', '203.0.113.9',
    'x-forwarded-for', '198.51.100.1, 10.0.0.1',
    'X-Forwarded-Proto', 'gopher',
    'X-Forwarded-Host', 'evil.test',
    'X-Real-IP', '10.6.6.6',
    'Forwarded', 'for=192.0.2.60;proto=http, for=198.51.100.17'
  ]
  const got = pairs(upstreamRequestHeaders(raw, { clientAddress: '::ffff:127.0.0.1', proto: 'https' }))
  t.same(got, [
    ['host', 'a.test'],
    ['x-forwarded-for', '203.0.113.9, 198.51.100.1, 10.0.0.1, 127.0.0.1'],
    ['x-forwarded-proto', 'https'],
    ['x-forwarded-host', 'a.test'],
    ['x-real-ip', '127.0.0.1'],
    ['forwarded', 'for=192.0.2.60;proto=http, for=198.51.100.17, for=127.0.0.1;proto=https;host="a.test"']
  ], 'the client may add to Forwarded, never replace X-Real-IP')
  const v6 = pairs(upstreamRequestHeaders([], { clientAddress: '::1', proto: 'http' }))
  t.same(v6.find(([n]) => n === 'forwarded'), ['forwarded', 'for="[::1]";proto=http'], 'IPv6 is bracketed and quoted')
})

t.test('drops hop-by-hop response fields, keeping the order and spelling of the rest', async (t) => {
  const cases: Array<[string, string[], string[]]> = [
    ['every hop-by-hop kind', [
      'Connection', 'close, X-Hop',
      'Keep-Alive', 'timeout=5',
      'Transfer-Encoding', 'chunked',
      'Proxy-Authenticate', 'Basic',
      'Trailer', 'x-checksum',
      'Upgrade', 'h2c',
      'x-hop', 'gone',
      'Content-Type', 'text/plain',
      'set-cookie', 'a=1',
      'Set-Cookie', 'b=2'
    ], ['Content-Type', 'text/plain', 'set-cookie', 'a=1', 'Set-Cookie', 'b=2']],
    ['the usual keep-alive answer', ['connection', 'keep-alive', 'keep-alive', 'timeout=5', 'x-a', '1'], ['x-a', '1']],
    ['keep-alive and a named field', ['connection', 'keep-alive, x-hop', 'x-hop', 'gone', 'x-a', '1'], ['x-a', '1']],
    ['two Connection fields', ['connection', 'x-one', 'Connection', 'x-two', 'x-one', '1', 'x-two', '2', 'x-three', '3'], ['x-three', '3']],
    ['nothing to drop', ['date', 'd', 'content-length', '2'], ['date', 'd', 'content-length', '2']]
  ]
  for (const [name, raw, want] of cases) t.same(downstreamRawHeaders(raw), want, name)
})

t.test('fieldValue finds the first value of a field whatever its case; fieldList flattens a header object', async (t) => {
  const raw = ['Content-Type', 'text/html', 'content-type', 'text/plain', 'grpc-status', '0']
  const cases: Array<[string, string | undefined]> = [['content-type', 'text/html'], ['grpc-status', '0'], ['grpc-message', undefined]]
  for (const [name, want] of cases) t.equal(fieldValue(raw, name), want, name)
  t.same(fieldList({ 'content-type': 'text/plain', 'set-cookie': ['a=1', 'b=2'], absent: undefined }),
    ['content-type', 'text/plain', 'set-cookie', 'a=1', 'set-cookie', 'b=2'])
})

t.test('client ip keeps IPv6 and unwraps IPv4-mapped addresses', async (t) => {
  t.equal(clientIp('::1'), '::1')
  t.equal(clientIp('::ffff:10.1.2.3'), '10.1.2.3')
  t.equal(clientIp(undefined), undefined)
})

t.test('hasFields sees own fields only', async (t) => {
  const cases: Array<[string, object, boolean]> = [
    ['empty', {}, false],
    ['one field', { 'grpc-status': '0' }, true],
    ['only inherited fields', Object.create({ inherited: 'x' }) as object, false]
  ]
  for (const [name, o, want] of cases) t.equal(hasFields(o), want, name)
})
