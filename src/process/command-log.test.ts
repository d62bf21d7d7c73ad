import t from 'tap'
import { Writable } from 'node:stream'
import { lifecycle, logFormatFlag, logLevelFlag, openCommandLog } from './command-log.ts'

function capture (isTTY = false): Writable & { text: () => string } {
  let text = ''
  const w = new Writable({ write (chunk, _enc, cb) { text += String(chunk); cb() } }) as Writable & { text: () => string, isTTY?: boolean }
  w.text = () => text
  if (isTTY) w.isTTY = true
  return w
}

t.test('logFormatFlag: pretty on a terminal, json otherwise, or what the flag says', async (t) => {
  t.equal(logFormatFlag(undefined, true), 'pretty')
  t.equal(logFormatFlag(undefined, false), 'json')
  t.equal(logFormatFlag('json', true), 'json')
  t.equal(logFormatFlag('pretty', false), 'pretty')
  t.throws(() => logFormatFlag('text', false), { code: 'ERR_SPIFFE_CLI_LOG_FORMAT', at: '--log-format', message: /got "text"/ })
})

t.test('logLevelFlag: pino levels and silent', async (t) => {
  for (const level of ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']) t.equal(logLevelFlag(level), level)
  t.throws(() => logLevelFlag('warning'), { code: 'ERR_SPIFFE_CLI_LOG_LEVEL', message: /got "warning"/ })
})

t.test('openCommandLog writes one format to stdout; lifecycle records pass a warn level, not silent', async (t) => {
  const json = capture()
  const j = openCommandLog({ logLevel: 'warn' }, { stdout: json, stderr: capture() })
  t.equal(j.format, 'json', 'not a terminal: json')
  j.log.info('hidden')
  lifecycle(j.log).info({ url: 'http://127.0.0.1:1' }, 'proxy listening on http://127.0.0.1:1')
  j.log.warn('shown')
  t.same(json.text().trim().split('\n').map((l) => (JSON.parse(l) as { msg: string }).msg), ['proxy listening on http://127.0.0.1:1', 'shown'])

  const tty = capture(true)
  const p = openCommandLog({}, { stdout: tty, stderr: capture() })
  t.equal(p.format, 'pretty', 'a terminal: pretty')
  p.log.info({ worker: '1' }, 'worker restarted')
  t.match(tty.text(), /^\[[\d:.]+\] INFO: worker restarted worker=1\n$/)

  const quiet = capture()
  const q = openCommandLog({ logLevel: 'silent', logFormat: 'pretty' }, { stdout: quiet, stderr: capture() })
  lifecycle(q.log).info('proxy listening')
  t.equal(quiet.text(), '', 'silent is silent')
})
