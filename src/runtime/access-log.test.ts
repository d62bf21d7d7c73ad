import { Writable } from 'node:stream'
import { pino } from 'pino'
import t from 'tap'
import type { AccessRecord } from '../proxy/index.ts'
import { accessLine, proxyLogger } from './access-log.ts'

const base: AccessRecord = {
  method: 'GET', path: '/', host: '127.0.0.1:8080', service: 'web', endpoint: '127.0.0.1:9443', status: 200,
  durationMs: 1.25, backendSpiffeId: 'spiffe://td.test/ns/a/sa/b', attempts: 1, client: '127.0.0.1', protocol: 'HTTP/1.1', backendProtocol: 'HTTP/1.1'
}

const cases: Array<[string, AccessRecord]> = [
  ['a plain request', base],
  ['every optional field', { ...base, routedPath: '/a/b', completed: false, clientSpiffeId: 'spiffe://c.test/x', error: 'backend reset' }],
  ['optional fields present as undefined, as the proxy builds them', { ...base, routedPath: undefined, completed: undefined, clientSpiffeId: undefined, error: undefined }],
  ['absent and null fields', { ...base, method: undefined, path: undefined, host: undefined, client: undefined, backendSpiffeId: null, backendProtocol: null, clientSpiffeId: null }],
  ['characters JSON escapes', { ...base, path: '/"q"\\\n\t\u0000\u001f\u2028é😀', host: 'h"ost', error: 'quote " and \\' }],
  ['numbers', { ...base, status: 499, durationMs: 0.000123, attempts: 2 }],
  ['a non-finite duration', { ...base, durationMs: Number.NaN }]
]

/** `record` with its keys in the order the proxy builds them (and the line lists them). */
function ordered (r: AccessRecord): AccessRecord {
  const keys = ['method', 'path', 'routedPath', 'host', 'service', 'endpoint', 'status', 'durationMs', 'backendSpiffeId', 'attempts',
    'completed', 'client', 'clientSpiffeId', 'protocol', 'backendProtocol', 'error'] as const
  const out: Record<string, unknown> = {}
  for (const k of keys) if (k in r) out[k] = r[k]
  t.equal(Object.keys(out).length, Object.keys(r).length, 'every field of the record is in the list')
  return out as unknown as AccessRecord
}

function capture (): { stream: Writable, lines: string[] } {
  const lines: string[] = []
  const stream = new Writable({ write (chunk: Buffer, _enc, done) { lines.push(...chunk.toString().split('\n').filter((l) => l !== '')); done() } })
  return { stream, lines }
}

t.test('accessLine writes what pino writes for info(record, "request")', async (t) => {
  for (const [name, record] of cases) {
    for (const bindings of [{ svc: 'spiffe-lb' }, { svc: 'spiffe-lb', worker: 42 }]) {
      const out = capture()
      const log = pino({ base: bindings, timestamp: () => ',"time":1700000000000' }, out.stream)
      log.info(ordered(record), 'request')
      await new Promise((resolve) => setImmediate(resolve))
      const chindings = (log as unknown as Record<symbol, string>)[pino.symbols.chindingsSym] ?? ''
      t.equal(accessLine(record, 1700000000000, chindings), `${out.lines[0] ?? ''}\n`, `${name}, bindings ${JSON.stringify(bindings)}`)
    }
  }
})

t.test('a lone surrogate is escaped (pino writes it raw, and UTF-8 then turns it into U+FFFD)', async (t) => {
  const line = accessLine({ ...base, error: 'x\ud800y' }, 1, '')
  t.match(line, /"error":"x\\ud800y"/)
  t.equal((JSON.parse(Buffer.from(line, 'utf8').toString('utf8')) as AccessRecord).error, 'x\ud800y', 'the value survives the UTF-8 round trip')
})

t.test('proxyLogger: the access log goes to the logger destination, honours the level, and info/warn pass through', async (t) => {
  const out = capture()
  const log = pino({ base: { svc: 'spiffe-lb' } }, out.stream)
  const proxyLog = proxyLogger(log)
  t.type(proxyLog.access, 'function')
  proxyLog.access?.(base)
  proxyLog.warn({ a: 1 }, 'careful')
  log.level = 'warn'
  proxyLog.access?.(base)
  await new Promise((resolve) => setImmediate(resolve))
  const entries = out.lines.map((l) => JSON.parse(l) as Record<string, unknown>)
  t.equal(entries.length, 2, 'the access line at info, the warning, nothing at warn level')
  t.match(entries[0], { level: 30, svc: 'spiffe-lb', method: 'GET', status: 200, msg: 'request' })
  t.type(entries[0]?.time, 'number')
  t.match(entries[1], { level: 40, a: 1, msg: 'careful' })
})
