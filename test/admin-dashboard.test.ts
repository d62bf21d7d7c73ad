// The admin dashboard (`GET /` on the admin listener) driven in a real headless Chromium: `serve`
// runs the demo world (two trusted backends, a partner domain, an untrusted backend) with its SVID
// from a credential directory, so the test can rotate it. The page must load with no console
// error and no failed request, show what /status reports in every panel, show a rotation and a
// rejected backend without a reload, and its charts must move under load.
import t from 'tap'
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { writeFile } from 'node:fs/promises'
import http from 'node:http'
import { join } from 'node:path'
import { chromium as playwright, type Browser, type Page } from 'playwright-core'
import { openCaPool } from '../src/control/ca-pool-store.ts'
import { writeCredentialGeneration } from '../src/control/credential-writer.ts'
import { svidPem } from '../src/credentials/testing/credential-fixtures.ts'
import type { CertificateAuthority } from '../src/pki/ca-types.ts'
import { DEMO, demoConfigYaml } from '../src/testbed/up-world.ts'
import { TrustDomain } from '../src/spiffe/trust-domain.ts'
import { X509Bundle } from '../src/spiffe/x509-bundle.ts'
import { startDemoBackends } from './demo-backends.ts'

const main = new URL('../src/cli/main.ts', import.meta.url).pathname
const chromium = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
const IDENTITY = `spiffe://${DEMO.trustDomain}/ns/lb/sa/frontend`

interface Status {
  identity: { spiffeId: string, serial: string }
  trustDomains: Array<{ trustDomain: string }>
  services: Array<{ name: string, endpoints: Array<{ endpoint: string, healthy: boolean }> }>
}

async function get (url: string): Promise<{ status: number, body: string, headers: http.IncomingHttpHeaders }> {
  return await new Promise((resolve, reject) => {
    http.get(url, { agent: false }, (res) => {
      let body = ''
      res.on('data', (d: Buffer) => { body += d.toString() })
      res.on('end', () => { resolve({ status: res.statusCode ?? 0, body, headers: res.headers }) })
    }).on('error', reject)
  })
}

async function waitFor (what: () => boolean | Promise<boolean>, label: string, ms = 60_000): Promise<void> {
  const end = Date.now() + ms
  while (!(await what())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${label}`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

/**
 * Waits until the expression `js` is true in the page. Polled from here: Playwright's own
 * waitForFunction evaluates a string with eval inside the page, which the page's policy refuses.
 */
async function until (page: Page, js: string, timeout = 10_000): Promise<void> {
  await waitFor(async () => await page.evaluate(js) === true, js, timeout)
}

/** Returns the cells' text of every row of the page's table `id`, by the row's data-key. */
async function rows (page: Page, id: string): Promise<Record<string, string[]>> {
  return await page.evaluate(`Object.fromEntries([...document.querySelectorAll('#${id} tbody tr[data-key]')].map((tr) =>
    [tr.getAttribute('data-key'), [...tr.querySelectorAll('td')].map((c) => c.textContent ?? '')]))`)
}

/** Returns the text of the page's element `id`. */
async function text (page: Page, id: string): Promise<string> {
  return await page.evaluate(`document.getElementById('${id}')?.textContent ?? ''`)
}

// Without chromium the test is skipped, except under CI=true, where it must run (.ci/run installs it).
const skip = !existsSync(chromium) && process.env.CI !== 'true'
  ? `no chromium at ${chromium}: install the Debian package chromium, or set CHROMIUM_PATH`
  : false

t.test('the admin dashboard in headless chromium', { skip }, async (t) => {
  if (!existsSync(chromium)) { t.fail(`chromium not found at ${chromium}: .ci/run installs it (apt package chromium)`); return }
  const world = await startDemoBackends('spiffe-lb-dashboard-')
  t.teardown(async () => { await world.stop() })
  const { ca } = await openCaPool({ stateDir: world.world.stateDir, poolId: DEMO.caPoolId, subject: 'CN=Demo Root CA, O=Demo', keyAlgorithm: 'ECDSA_P256' })
  const credentials = join(world.dir, 'proxy-credentials')
  const keyLines: string[] = [] // the base64 lines of every private key the proxy is given
  const publish = async (authority: CertificateAuthority): Promise<string> => {
    const svid = await svidPem(authority, IDENTITY)
    keyLines.push(...svid.keyPem.split('\n').filter((l) => l.length > 20 && !l.startsWith('-----')))
    const jwks = X509Bundle.fromPem(TrustDomain.fromString(DEMO.trustDomain), authority.rootPem).toJwks(1)
    await writeCredentialGeneration(credentials, {
      configStatus: '',
      certificates: svid.chainPem,
      privateKey: svid.keyPem,
      caCertificates: authority.rootPem,
      trustBundles: `${JSON.stringify({ trust_domains: { [DEMO.trustDomain]: jwks } })}\n`
    }, Date.now())
    return svid.serial.toLowerCase()
  }
  const firstSerial = await publish(ca)
  const config = join(world.dir, 'config.yaml')
  await writeFile(config, demoConfigYaml(world.world, world.ports, { proxyPort: 0, adminPort: 0 })
    .replace(/^credentials: .*$/m, `credentials: { source: directory, directory: ${credentials} }`))

  const child = spawn(process.execPath, [main, 'serve', '-c', config, '--log-format', 'json'], { stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  child.stdout.on('data', (d: Buffer) => { output += d.toString() })
  child.stderr.on('data', (d: Buffer) => { output += d.toString() })
  t.teardown(() => {
    if (!t.passing()) t.comment(output)
    child.kill('SIGKILL')
  })
  await waitFor(() => /admin listening on http:/.test(output) || child.exitCode !== null, 'serve to listen')
  const proxy = /proxy listening on (http:[^\s"]+)/.exec(output)?.[1] ?? ''
  const admin = /admin listening on (http:[^\s"]+)/.exec(output)?.[1] ?? ''
  t.ok(proxy !== '' && admin !== '', output)
  const adminOrigin = new URL(admin).origin

  const front = await get(`${admin}/`)
  t.equal(front.status, 200)
  t.match(front.headers['content-security-policy'], /default-src 'none'; script-src 'self'; style-src 'self'/, 'a strict content security policy')
  t.notMatch(front.body, /<script>|<style>|\sstyle=|\son\w+=/, 'no inline script, style or event handler')

  // Playwright runs Chromium without its sandbox unless told otherwise (as root it could not start one).
  const browser: Browser = await playwright.launch({ executablePath: chromium, headless: true, args: ['--disable-gpu', '--disable-dev-shm-usage'] })
  t.teardown(async () => { await browser.close() })
  const page = await browser.newPage({ viewport: { width: 1366, height: 900 } })
  const problems: string[] = []
  const requested: string[] = []
  page.on('console', (m) => { if (m.type() === 'error') problems.push(`console: ${m.text()}`) })
  page.on('pageerror', (e) => { problems.push(`page error: ${String(e)}`) })
  page.on('requestfailed', (r) => { if (!r.url().endsWith('/dashboard/events')) problems.push(`failed: ${r.url()} ${r.failure()?.errorText ?? ''}`) })
  page.on('request', (r) => { requested.push(r.url()) })
  page.on('response', (r) => { if (r.status() >= 400) problems.push(`${r.status()}: ${r.url()}`) })
  await page.goto(`${admin}/`, { waitUntil: 'load' })
  await until(page, `(document.getElementById('svid-serial')?.textContent ?? '—') !== '—'`, 30_000)

  // Every panel shows what /status reports (health may move: compare with a fresh /status until both agree).
  let mismatch = ''
  await waitFor(async () => {
    const status = JSON.parse((await get(`${admin}/status`)).body) as Status
    const id = await text(page, 'svid-id')
    const serial = await text(page, 'svid-serial')
    const trust = await rows(page, 'trust-table')
    const backends = await rows(page, 'backends-table')
    mismatch = JSON.stringify({ id, serial, trust: Object.keys(trust), backends, status })
    if (id !== status.identity.spiffeId || serial !== status.identity.serial) return false
    if (Object.keys(trust).sort().join() !== status.trustDomains.map((d) => d.trustDomain).sort().join()) return false
    return status.services.every((s) => s.endpoints.every((e) => backends[`${s.name} ${e.endpoint}`]?.[2] === (e.healthy ? 'healthy' : 'unhealthy')))
  }, 'the page to show /status', 20_000).catch((e: Error) => { throw new Error(`${e.message}: ${mismatch}`) })
  t.pass('identity, trust domains and backend health match /status')
  t.equal(await text(page, 'svid-serial'), firstSerial)
  const trust = await rows(page, 'trust-table')
  t.match(trust[DEMO.partnerDomain]?.[1], /additionalTrustBundles/, 'the partner domain\'s bundle source')
  t.match(trust[DEMO.trustDomain]?.[2], /expires \d{4}-\d\d-\d\d/, 'anchors with their expiry')

  // A rejected backend: its rule and code appear in the peers panel without a reload, and the filters narrow the list.
  const untrusted = `127.0.0.1:${world.ports.get('untrusted') ?? 0}`
  t.equal((await get(`${proxy}/untrusted/hello`)).status, 502)
  await until(page, `/ERR_SPIFFE_VERIFY_NO_BUNDLE/.test(document.querySelector('#peers-table tr[data-key="${untrusted}"]')?.textContent ?? '')`)
  t.match((await rows(page, 'peers-table'))[untrusted], [untrusted, 'reject', `spiffe://${DEMO.untrustedDomain}/ns/web/sa/rogue`, DEMO.untrustedDomain, 'ERR_SPIFFE_VERIFY_NO_BUNDLE'])
  await page.selectOption('#filter-verdict', 'reject')
  await until(page, `[...document.querySelectorAll('#peers-table tbody tr[data-key]')].every((r) => r.children[1]?.textContent === 'reject')`)
  t.ok(Object.keys(await rows(page, 'peers-table')).includes(untrusted), 'the reject filter keeps the rejected backend')
  await page.selectOption('#filter-verdict', 'accept')
  await until(page, `document.querySelector('#peers-table tr[data-key="${untrusted}"]') === null`)
  await page.selectOption('#filter-verdict', { value: '' })
  await page.selectOption('#filter-td', DEMO.partnerDomain)
  await until(page, `[...document.querySelectorAll('#peers-table tbody tr[data-key]')].every((r) => r.children[3]?.textContent === '${DEMO.partnerDomain}')`)
  await page.selectOption('#filter-td', { value: '' })

  // Under load the charts move: at least a few hundred requests through the proxy, and on until
  // the page shows them (so no assertion depends on how fast a sample arrives).
  let loading = true
  let answered = 0
  let failed = 0
  const load = (async () => {
    while (loading || answered < 300) {
      const answers = await Promise.all(Array.from({ length: 10 }, async (_, j) => await get(`${proxy}/${j % 3 === 0 ? 'partner/' : ''}hello`)))
      answered += answers.length
      failed += answers.filter((a) => a.status !== 200).length
    }
  })()
  await until(page, `Number(document.getElementById('chart-rps')?.getAttribute('data-max')) > 0 &&
    Number(document.getElementById('chart-latency')?.getAttribute('data-max')) > 0 &&
    [...document.querySelectorAll('#backends-table tbody tr[data-key^="web "]')].some((r) => Number(r.children[8]?.textContent) > 0)`, 30_000)
    .finally(() => { loading = false })
  await load
  t.equal(failed, 0, `the proxy answered all ${answered} requests`)
  const polyline: string = await page.evaluate(`document.querySelector('#chart-rps polyline')?.getAttribute('points') ?? ''`)
  t.ok(polyline.split(' ').some((xy: string) => Number(xy.split(',')[1]) < 118), 'the requests/s line rises above zero')
  t.ok(Object.values(await rows(page, 'data-rps')).some((cells) => Number(cells[1]) > 0), 'the chart\'s table shows the rate too')

  // A rotation appears without a reload, within 5 s of /status reporting it.
  const rotatedSerial = await publish(ca)
  await waitFor(async () => (JSON.parse((await get(`${admin}/status`)).body) as Status).identity.serial === rotatedSerial, 'the rotation in /status')
  await until(page, `document.getElementById('svid-serial')?.textContent === '${rotatedSerial}'`, 5_000)
  t.same(Object.keys(await rows(page, 'rotations')), [rotatedSerial, firstSerial], 'the rotation history, newest first')

  // Keyboard: the first Tab reaches the skip link; a phone width scrolls no page sideways; dark mode applies.
  await page.keyboard.press('Tab')
  t.equal(await page.evaluate('document.activeElement?.className'), 'skip')
  await page.setViewportSize({ width: 390, height: 844 })
  t.ok(await page.evaluate('document.documentElement.scrollWidth <= window.innerWidth'), 'no horizontal page scroll at phone width')
  const background = 'getComputedStyle(document.body).backgroundColor'
  const light = await page.evaluate(background)
  await page.emulateMedia({ colorScheme: 'dark' })
  t.not(await page.evaluate(background), light, 'dark colours under prefers-color-scheme: dark')

  const html = await page.content()
  t.notMatch(html, /PRIVATE KEY/)
  t.same(keyLines.filter((l) => html.includes(l)), [], 'no private key byte on the page')
  t.same(problems, [], 'no console error and no failed request')
  t.same(requested.filter((u) => new URL(u).origin !== adminOrigin), [], 'no request to another host')
})
