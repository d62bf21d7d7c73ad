import t from 'tap'
import { request } from 'node:http'
import { gunzipSync } from 'node:zlib'
import { ManualClock } from '../internal/clock.ts'
import { createAdminServer } from './admin-server.ts'
import { createMetrics } from './metrics.ts'

const clock = new ManualClock(Date.UTC(2026, 2, 1))
const metrics = createMetrics({ clock })
const admin = createAdminServer({
  host: '127.0.0.1',
  port: 0,
  metrics,
  providers: {
    identity: () => ({ spiffeId: 'spiffe://td.example/lb', notBefore: clock.now() - 1000, notAfter: clock.now() + 1000, serial: '0a' }),
    trustDomains: () => [{ trustDomain: 'td.example', fingerprints: ['ab'], source: 'credential files' }],
    services: () => []
  },
  peers: () => [],
  clock
})
const { port } = await admin.listen()
t.teardown(() => admin.close())

interface Answer { status: number, headers: Record<string, string | string[] | undefined>, body: Buffer }
async function get (path: string, headers: Record<string, string> = {}, method = 'GET'): Promise<Answer> {
  return await new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method, headers, agent: false }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => { chunks.push(c) })
      res.on('end', () => { resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }) })
    })
    req.on('error', reject)
    req.end()
  })
}

t.test('the page and its files come from this origin under a strict content security policy', async (t) => {
  const page = await get('/')
  t.equal(page.status, 200)
  t.match(page.headers['content-type'], /^text\/html/)
  t.match(page.headers['content-security-policy'], /default-src 'none'; script-src 'self'; style-src 'self'/)
  t.equal(page.headers['x-content-type-options'], 'nosniff')
  const html = page.body.toString()
  t.notMatch(html, /https?:\/\//, 'no absolute url: nothing from another host')
  const script = ['app.js', 'dom.js', 'charts.js'].map(async (f) => (await get(`/dashboard/${f}`)).body.toString())
  const scripts = (await Promise.all(script)).join('\n')
  t.match(scripts, /from '\.\/dom\.js'/, 'the page script imports its modules from this origin')
  for (const [path, type] of [['/dashboard/app.js', /^text\/javascript/], ['/dashboard/dom.js', /^text\/javascript/], ['/dashboard/charts.js', /^text\/javascript/], ['/dashboard/app.css', /^text\/css/], ['/dashboard/icon.svg', /^image\/svg\+xml/]] as const) {
    t.ok(html.includes(path) || scripts.includes(`'./${path.slice('/dashboard/'.length)}'`), `the page loads ${path}`)
    const file = await get(path, { 'accept-encoding': 'gzip, br' })
    t.equal(file.status, 200, path)
    t.match(file.headers['content-type'], type)
    t.equal(file.headers['content-encoding'], 'gzip')
    t.ok(gunzipSync(file.body).length > file.body.length, `${path} is compressed`)
  }
  t.notMatch(scripts, /https?:\/\/(?!www\.w3\.org\/2000\/svg)/, 'the scripts name no other host')
  t.notMatch(scripts, /innerHTML|outerHTML|insertAdjacentHTML|eval\(|new Function/, 'wire text is never parsed as markup or code')
  t.equal((await get('/', {}, 'POST')).status, 405, 'no state-changing method')
})

t.test('/dashboard/events streams /status and the traffic history', async (t) => {
  const body = await new Promise<string>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/dashboard/events', agent: false }, (res) => {
      t.match(res.headers['content-type'], /^text\/event-stream/)
      let text = ''
      res.on('data', (c: Buffer) => {
        text += c.toString()
        const at = text.indexOf('event: hello')
        if (at >= 0 && text.includes('\n\n', at)) { req.destroy(); resolve(text) }
      })
    })
    req.on('error', reject)
    req.end()
  })
  const data = JSON.parse(/event: hello\ndata: (.*)\n/.exec(body)?.[1] ?? '{}') as { status: { identity: { serial: string }, trustDomains: Array<{ source: string }> }, peers: unknown[], history: unknown[] }
  t.equal(data.status.identity.serial, '0a')
  t.equal(data.status.trustDomains[0]?.source, 'credential files')
  t.same(data.peers, [])
  t.same(data.history, [])
})

t.test('/dashboard/events is gzip-compressed for a client that accepts it, event by event', async (t) => {
  const { createGunzip } = await import('node:zlib')
  const text = await new Promise<string>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/dashboard/events', headers: { 'accept-encoding': 'gzip' }, agent: false }, (res) => {
      t.equal(res.headers['content-encoding'], 'gzip')
      let out = ''
      const gunzip = createGunzip()
      res.pipe(gunzip)
      gunzip.on('data', (c: Buffer) => {
        out += c.toString()
        const at = out.indexOf('event: hello')
        // The hello event arrives whole although the stream stays open: each event is flushed.
        if (at >= 0 && out.includes('\n\n', at)) { req.destroy(); resolve(out) }
      })
    })
    req.on('error', reject)
    req.end()
  })
  t.match(text, /event: hello\ndata: \{.*"serial":"0a"/)
})
