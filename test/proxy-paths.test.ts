// Paths are normalised before routing, and the backend receives the path that was routed: dot
// segments (raw and percent-encoded) and `//` cannot steer a request past the url map, and an
// encoded "/" or "\" is refused with 400 before anything is forwarded.
import t from 'tap'
import { fetchText, startBackend, startTestProxy, testService } from '../src/proxy/test-support.ts'

t.test('each path form is routed and forwarded normalised', async (t) => {
  const web = await startBackend('web')
  const files = await startBackend('files')
  t.teardown(async () => { await web.close(); await files.close() })
  const { port, log } = await startTestProxy(t, {
    services: [testService('web', [web]), testService('files', [files])],
    urlMap: {
      defaultService: 'web',
      hostRules: [{ hosts: ['*'], pathMatcher: 'm' }],
      pathMatchers: [{ name: 'm', defaultService: 'web', pathRules: [{ paths: ['/f/*'], service: 'files' }] }]
    }
  })
  const cases: Array<[string, string, string]> = [
    ['/hello/../f/x', 'files', '/f/x'],
    ['/f/x/../../hello', 'web', '/hello'],
    ['/%2e%2e/f/x', 'files', '/f/x'],
    ['/f/%2E%2E/hello', 'web', '/hello'],
    ['/hello/%2e%2e/f/x', 'files', '/f/x'],
    ['//f//x', 'files', '/f/x'],
    ['/%66/x?q=../a', 'files', '/f/x?q=../a']
  ]
  for (const [sent, service, path] of cases) {
    const r = await fetchText(port, sent)
    t.equal(r.status, 200, sent)
    t.equal(r.body, `${service} GET ${path}`, `${sent} -> ${service} receives ${path}`)
  }
  const before = web.seen.length + files.seen.length
  for (const [sent, why] of [['/f%2Fx', /encoded "\/"/], ['/hello%2f..%2ff/x', /encoded "\/"/], ['/f%5Cx', /encoded "\\"/], ['/f\\x', /backslash/]] as const) {
    const r = await fetchText(port, sent)
    t.equal(r.status, 400, sent)
    t.match(r.body, why, `${sent}: ${r.body.trim()}`)
  }
  t.equal(web.seen.length + files.seen.length, before, 'nothing refused was forwarded')
  t.ok(log.requests().some((e) => e.path === '/hello/../f/x' && e.routedPath === '/f/x'), 'the access log shows both forms')
})
