import t from 'tap'
import { execFile, spawn } from 'node:child_process'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { startDemoBackends } from './demo-backends.ts'
import { createDemoWorld, demoConfigYaml, DEMO } from '../src/testbed/up-world.ts'

const run = promisify(execFile)
const main = new URL('../src/cli/main.ts', import.meta.url).pathname

async function curl (url: string): Promise<{ code: number, body: string }> {
  const { stdout } = await run('curl', ['-s', '-w', '\n%{http_code}', url])
  const at = stdout.lastIndexOf('\n')
  return { code: Number(stdout.slice(at + 1)), body: stdout.slice(0, at) }
}

async function waitFor (what: () => boolean | Promise<boolean>, label: string, ms = 20_000): Promise<void> {
  const end = Date.now() + ms
  while (!(await what())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${label}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

t.test('serve --check exits 0 for a valid config and 2 listing every error of a broken one', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'spiffe-lb-check-'))
  t.teardown(async () => { await rm(dir, { recursive: true, force: true }) })
  const world = await createDemoWorld(dir, Date.now())
  const good = join(dir, 'good.yaml')
  await writeFile(good, demoConfigYaml(world, new Map(world.backends.map((b, i) => [b.name, 9443 + i])), { proxyPort: 0, adminPort: 0 }))
  const ok = await run(process.execPath, [main, 'serve', '--check', '-c', good])
  t.match(ok.stdout, /^config ok: /)
  for (const [host, listen] of [['0.0.0.0', '0.0.0.0:8080'], ['::', '[::]:8080']] as const) {
    const onHost = join(dir, 'on-host.yaml')
    await writeFile(onHost, demoConfigYaml(world, new Map(world.backends.map((b, i) => [b.name, 9443 + i])), { proxyPort: 8080, adminPort: 9901, host }))
    t.match(await readFile(onHost, 'utf8'), `frontend: { listen: "${listen}" }`)
    t.match((await run(process.execPath, [main, 'serve', '--check', '-c', onHost])).stdout, /^config ok: /, `up --host ${host}`)
  }
  const bad = join(dir, 'bad.yaml')
  await writeFile(bad, (await readFile(good, 'utf8'))
    .replace(`id: ${DEMO.poolId}`, 'id: X_bad')
    .replace('rotationWindowPercentage: 50', 'rotationWindowPercentage: 95'))
  const err = await run(process.execPath, [main, 'serve', '--check', '-c', bad]).then(() => undefined, (e: unknown) => e)
  t.match(err, { code: 2 })
  const stderr = (err as { stderr: string }).stderr
  t.match(stderr, /workloadIdentityPools\[0\]\.id: /)
  t.match(stderr, /workloadIdentityPools\[0\]\.inlineCertificateIssuanceConfig\.rotationWindowPercentage: /)
})

// One `serve` process followed through its life: traffic, a refused reload (the running config
// stays), a trust domain removed at run time (its backend fails next, although a TLS session
// to it exists), and a graceful SIGTERM.
t.test('serve reloads on SIGHUP, keeps the last good config and drops a removed trust domain', async (t) => {
  const { dir, world, ports, stop } = await startDemoBackends('spiffe-lb-serve-')
  t.teardown(stop)
  const config = join(dir, 'config.yaml')
  const text = demoConfigYaml(world, ports, { proxyPort: 0, adminPort: 0 })
  await writeFile(config, text)
  const child = spawn(process.execPath, [main, 'serve', '-c', config, '--log-level', 'info', '--drain-timeout', '2s'], { stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  child.stdout.on('data', (d: Buffer) => { output += d.toString() })
  child.stderr.on('data', (d: Buffer) => { output += d.toString() })
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => { resolve(code) }))
  t.teardown(() => { child.kill('SIGKILL') })
  await waitFor(() => /proxy listening on (http:[^\s"]+)/.test(output) || child.exitCode !== null, 'serve to listen')
  const proxy = /proxy listening on (http:[^\s"]+)/.exec(output)?.[1] ?? ''
  t.ok(proxy, output)

  t.equal((await curl(`${proxy}/partner/a`)).code, 200, 'partner domain trusted at start')
  t.equal((await curl(`${proxy}/partner/b`)).code, 200, 'a second request (pooled or resumed) works too')

  // A broken config is refused as a whole; traffic keeps flowing on the old one.
  await writeFile(config, text.replace('timeoutSec: 30', 'timeoutSec: -4'))
  child.kill('SIGHUP')
  await waitFor(() => output.includes('config reload refused'), 'the refused reload to be logged')
  t.match(output, /backendServices\[0\]\.timeoutSec/)
  t.equal((await curl(`${proxy}/hello`)).code, 200, 'still serving with the last good config')

  // Remove the partner domain from additionalTrustBundles: the very next request must fail.
  const withoutPartner = text.replace(/ {4}inlineTrustConfig:\n(?: {6,}.*\n)+/, '')
  t.not(withoutPartner, text, 'the partner bundle was removed from the config text')
  await writeFile(config, withoutPartner)
  child.kill('SIGHUP')
  await waitFor(() => output.includes('config reloaded'), 'the reload to apply').catch((e: Error) => { throw new Error(`${e.message}\n${output}`) })
  const after = await curl(`${proxy}/partner/c`)
  t.equal(after.code, 502, after.body)
  t.match(after.body, /partner\.example.*ERR_SPIFFE_VERIFY_NO_BUNDLE/)
  t.equal((await curl(`${proxy}/hello`)).code, 200, 'the own trust domain still works')

  child.kill('SIGTERM')
  t.equal(await exited, 0)
  t.match(output, /spiffe-lb stopped/)
  // The access log is buffered (log-destination.ts) yet complete: every request has its line,
  // written before the process said it stopped.
  for (const path of ['/partner/a', '/partner/b', '/hello', '/partner/c']) {
    const at = output.indexOf(`"path":"${path}"`)
    t.ok(at >= 0 && at < output.indexOf('spiffe-lb stopped'), `access log line for ${path}`)
  }
  t.match(output, /"msg":"request"[^\n]*"status":502[^\n]*"path":"\/partner\/c"|"path":"\/partner\/c"[^\n]*"status":502/)
})
