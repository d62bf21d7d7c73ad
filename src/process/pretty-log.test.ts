import t from 'tap'
import { prettyDestination, prettyMessage } from './pretty-log.ts'

t.test('prettyMessage: the message, then the fields it does not already say', async (t) => {
  const cases: Array<[string, Record<string, unknown>, string]> = [
    ['fields as key=value', { level: 30, time: 1, pid: 2, hostname: 'h', svc: 'spiffe-lb', msg: 'worker restarted', worker: '1', restarts: 2 }, 'worker restarted worker=1 restarts=2'],
    ['a value the message quotes is left out', { msg: 'proxy listening on http://127.0.0.1:8080', url: 'http://127.0.0.1:8080' }, 'proxy listening on http://127.0.0.1:8080'],
    ['strings with spaces are quoted, lists joined', { msg: 'x', reason: 'a b', domains: ['a.test', 'b.test'], none: null }, 'x reason="a b" domains=[a.test, b.test] none=-'],
    ['errors by message and code, no stack', { msg: 'failed', err: { type: 'Error', message: 'boom', code: 'ERR_X', stack: 'Error: boom\n    at x' } }, 'failed err="boom (ERR_X)"'],
    ['nested objects as key=value', { msg: 'x', limits: { a: 1, b: 'c' } }, 'x limits={a=1 b=c}'],
    ['a message of several lines stays whole', { msg: 'demo ready\ntable', proxy: 'http://x' }, 'demo ready\ntable'],
    ['the access log', { msg: 'request', method: 'GET', path: '/hello', status: 200, durationMs: 3, service: 'web', endpoint: '127.0.0.1:9443', attempts: 1 }, 'GET /hello 200 3ms web → 127.0.0.1:9443 attempts=1']
  ]
  for (const [name, log, want] of cases) t.equal(prettyMessage(log), want, name)
})

t.test('prettyDestination writes one readable line per record, never JSON', async (t) => {
  let written = ''
  const dest = prettyDestination({ write: (s: string) => { written += s } }, false)
  dest.write(`${JSON.stringify({ level: 40, time: Date.UTC(2026, 0, 1, 12, 0, 0), pid: 1, hostname: 'h', svc: 'spiffe-lb', msg: 'config reload refused', code: 'ERR_X' })}\n`)
  t.match(written, /^\[\d\d:\d\d:\d\d\.\d{3}\] WARN: config reload refused code=ERR_X\n$/)
  t.notMatch(written, /[{}]/)
})
