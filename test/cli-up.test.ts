import t from 'tap'
import { spawn } from 'node:child_process'
import { execFile } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'

const run = promisify(execFile)
const main = new URL('../src/cli/main.ts', import.meta.url).pathname

async function curl (url: string): Promise<{ code: number, body: string }> {
  const { stdout } = await run('curl', ['-s', '-w', '\n%{http_code}', url])
  const at = stdout.lastIndexOf('\n')
  return { code: Number(stdout.slice(at + 1)), body: stdout.slice(0, at) }
}

// The README's main command: `spiffe-lb up` starts the whole demo, and curl through the proxy
// shows an accepted backend in each trusted domain and a rejected one in the untrusted domain.
t.test('spiffe-lb up serves the demo and curl shows accepted and rejected backends', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'spiffe-lb-up-'))
  t.teardown(async () => { await rm(dir, { recursive: true, force: true }) })
  const child = spawn(process.execPath, [main, 'up', '--dir', dir, '--port', '0', '--admin-port', '0'],
    { stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  child.stdout.on('data', (d: Buffer) => { output += d.toString() })
  child.stderr.on('data', (d: Buffer) => { output += d.toString() })
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => { resolve(code) }))
  t.teardown(() => { child.kill('SIGKILL') })
  await new Promise<void>((resolve, reject) => {
    const timer = setInterval(() => {
      if (output.includes('ready (Ctrl-C to stop)')) { clearInterval(timer); resolve() }
      if (child.exitCode !== null) { clearInterval(timer); reject(new Error(`up exited early:\n${output}`)) }
    }, 50)
  })
  const proxy = /curl -s (http:\/\/127\.0\.0\.1:\d+)\/hello/.exec(output)?.[1]
  const admin = /curl -s (http:\/\/127\.0\.0\.1:\d+)\/status/.exec(output)?.[1]
  t.ok(proxy, 'summary names the proxy address')
  t.ok(admin, 'summary names the admin address')
  // The summary is one log record: its line breaks are escaped in JSON lines.
  t.ok(output.includes(`dashboard:\\n  ${admin ?? ''}/ `) || output.includes(`dashboard:\n  ${admin ?? ''}/ `), 'summary names the dashboard url')
  t.match(output, /backend untrusted\s+127\.0\.0\.1:\d+\s+spiffe:\/\/untrusted\.example\/ns\/web\/sa\/rogue\s+no/)
  t.match(output, /any trust domain \(SPIRE-style, no pools\): tlsSettings\.identity: spiffe:\/\/example\.org\/ns\/lb\/sa\/frontend/, 'up shows the SPIRE-style identity next to the GCP one')

  const own = await curl(`${proxy ?? ''}/hello`)
  t.equal(own.code, 200, own.body)
  const echoed = JSON.parse(own.body) as { peer: string, self: string, path: string }
  t.equal(echoed.peer, 'spiffe://demo-pool.global.123456789012.workload.id.goog/ns/lb/sa/frontend', 'backend saw the proxy\'s managed identity')
  t.match(echoed.self, /^spiffe:\/\/demo-pool\.global\.123456789012\.workload\.id\.goog\/ns\/backends\/sa\/backend-[12]$/)
  t.equal(echoed.path, '/hello')

  const partner = await curl(`${proxy ?? ''}/partner/hello`)
  t.equal(partner.code, 200, partner.body)
  t.equal((JSON.parse(partner.body) as { self: string }).self, 'spiffe://partner.example/ns/web/sa/partner-backend')

  const untrusted = await curl(`${proxy ?? ''}/untrusted/hello`)
  t.equal(untrusted.code, 502)
  t.match(untrusted.body, /rejected: .*untrusted\.example.*\(ERR_SPIFFE_VERIFY_NO_BUNDLE\)/)

  // The other end of the handshake: proxy -> spiffe-lb inbound (partner domain) -> plain app.
  const shop = await curl(`${proxy ?? ''}/shop/orders`)
  t.equal(shop.code, 200, shop.body)
  t.same(JSON.parse(shop.body), { app: 'shop', path: '/shop/orders', clientCertPresent: 'true', chainVerified: 'true', caller: 'spiffe://demo-pool.global.123456789012.workload.id.goog/ns/lb/sa/frontend' })
  t.match(output, /spiffe-lb inbound \(shop\)\s+127\.0\.0\.1:\d+\s+spiffe:\/\/partner\.example\/ns\/shop\/sa\/api/)

  const status = await curl(`${admin ?? ''}/status`)
  t.equal(status.code, 200)
  t.match(status.body, /partner\.example/)

  const dashboard = await curl(`${admin ?? ''}/`)
  t.equal(dashboard.code, 200)
  t.match(dashboard.body, /<title>spiffe-lb dashboard<\/title>/)

  child.kill('SIGTERM')
  t.equal(await exited, 0, 'exits 0 on SIGTERM')
})
