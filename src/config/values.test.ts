import t from 'tap'
import { configError } from './errors.ts'
import { formatDuration } from '../internal/duration.ts'
import { isHttpUrl, parseDuration } from './values.ts'
import { parseHostPort } from '../internal/host-port.ts'

t.test('parseDuration reads the cloud form and formatDuration writes it back', async (t) => {
  const cases: Array<[string, number]> = [
    ['86400s', 86_400_000],
    ['0s', 0],
    ['300s', 300_000],
    ['1.5s', 1500],
    ['0.000000001s', 0],
    ['2592000s', 2_592_000_000],
    ['500ms', 500],
    ['5m', 300_000],
    ['24h', 86_400_000]
  ]
  for (const [text, ms] of cases) {
    t.equal(parseDuration(text), ms, text)
    if (text.endsWith('s') && !text.endsWith('ms') && ms > 0 && text !== '0.000000001s') t.equal(formatDuration(ms), text, `format ${ms}`)
  }
})

t.test('parseDuration refuses other forms', async (t) => {
  for (const text of ['86400', '1d', '24 h', '-5s', '1.s', ' 5s', '5 s', '1e3s', '']) {
    t.throws(() => parseDuration(text), { code: 'ERR_SPIFFE_CONFIG_DURATION' }, JSON.stringify(text))
  }
})

t.test('parseHostPort', async (t) => {
  const ok: Array<[string, 0 | 1, string, number]> = [
    ['127.0.0.1:9443', 1, '127.0.0.1', 9443],
    ['[::1]:9444', 1, '::1', 9444],
    ['[2001:db8::5]:443', 1, '2001:db8::5', 443],
    ['backend-1.internal:8443', 1, 'backend-1.internal', 8443],
    ['localhost:65535', 1, 'localhost', 65535],
    ['0.0.0.0:0', 0, '0.0.0.0', 0],
    ['[::]:8080', 0, '::', 8080]
  ]
  for (const [text, min, host, port] of ok) {
    t.same(parseHostPort(text, 'ERR_SPIFFE_CONFIG_ENDPOINT', min, configError), { host, port, address: text }, text)
  }
  const bad: Array<[string, 0 | 1, RegExp]> = [
    ['127.0.0.1', 1, /no port/],
    ['::1:9443', 1, /IPv6 addresses need brackets/],
    ['[::g]:1', 1, /is not an IPv6 address/],
    ['[127.0.0.1]:1', 1, /is not an IPv6 address/],
    ['300.1.1.1:80', 1, /is not a hostname or IPv4 address/],
    ['exa_mple:80', 1, /is not a hostname or IPv4 address/],
    ['127.0.0.1:0', 1, /port 0 is out of range/],
    ['127.0.0.1:65536', 0, /port 65536 is out of range/],
    [':80', 0, /no port/],
    ['host:80/x', 0, /no port/]
  ]
  for (const [text, min, why] of bad) {
    t.throws(() => parseHostPort(text, 'ERR_SPIFFE_CONFIG_ENDPOINT', min, configError), { code: 'ERR_SPIFFE_CONFIG_ENDPOINT', message: why }, text)
  }
})

t.test('isHttpUrl', async (t) => {
  t.ok(isHttpUrl('http://127.0.0.1:8181/computeMetadata/v1/instance/gce-workload-certificates'))
  t.ok(isHttpUrl('https://metadata.google.internal'))
  t.notOk(isHttpUrl('ftp://x'))
  t.notOk(isHttpUrl('metadata.google.internal'))
})
