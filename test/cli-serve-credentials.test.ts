import t from 'tap'
import { execFile, spawn } from 'node:child_process'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'

const run = promisify(execFile)
const main = new URL('../src/cli/main.ts', import.meta.url).pathname
const example = new URL('../examples/gce-credential-directory.yaml', import.meta.url).pathname

async function waitFor (what: () => boolean, label: string, output: () => string): Promise<void> {
  const end = Date.now() + 30_000
  while (!what()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${label}\n${output()}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

async function curl (url: string): Promise<{ code: number, body: string }> {
  const { stdout } = await run('curl', ['-s', '-w', '\n%{http_code}', url])
  const at = stdout.lastIndexOf('\n')
  return { code: Number(stdout.slice(at + 1)), body: stdout.slice(0, at) }
}

t.test('serve with a missing credential directory says so at once; the 502 and /status say why once', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'spiffe-lb-nocreds-'))
  t.teardown(async () => { await rm(dir, { recursive: true, force: true }) })
  const missing = join(dir, 'no-such-dir')
  const config = join(dir, 'config.yaml')
  await writeFile(config, (await readFile(example, 'utf8'))
    .replaceAll('/var/run/secrets/workload-spiffe-credentials', missing)
    .replace('["10.0.0.12:8443", "10.0.0.13:8443"]', '["127.0.0.1:1"]')
    .replace('"0.0.0.0:8080"', '"127.0.0.1:0"')
    .replace('"127.0.0.1:9901"', '"127.0.0.1:0"'))
  const child = spawn(process.execPath, [main, 'serve', '-c', config], { stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  child.stdout.on('data', (d: Buffer) => { stdout += d.toString() })
  child.stderr.on('data', () => {})
  t.teardown(() => { child.kill('SIGKILL') })
  await waitFor(() => /admin listening on (http:[^\s"]+)/.test(stdout) && stdout.includes('credentials unusable: '), 'the warning', () => stdout)
  const warning = stdout.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as { level: number, msg: string })
    .find((r) => r.msg.startsWith('credentials unusable: '))
  t.match(warning, { level: 40, msg: /^credentials unusable: no usable svid for spiffe:\/\/vm-pool\.global\.123456789012\.workload\.id\.goog\/ns\/lb\/sa\/frontend \(backend services "web"\): no credentials accepted yet \(ERR_SPIFFE_\w+: .*no-such-dir/ })
  t.match(warning?.msg, /requests through these backend services get 502/)

  const proxy = /proxy listening on (http:[^\s"]+)/.exec(stdout)?.[1] ?? ''
  const admin = /admin listening on (http:[^\s"]+)/.exec(stdout)?.[1] ?? ''
  const res = await curl(`${proxy}/x`)
  t.equal(res.code, 502)
  t.equal(res.body.split('no usable svid').length - 1, 1, `"no usable svid" once: ${res.body}`)

  const status = JSON.parse((await curl(`${admin}/status`)).body) as { identity: Record<string, unknown>, ready: { reasons: string[] } }
  t.equal(status.identity.svidExpiry, null)
  t.equal(status.identity.expiresInSeconds, null)
  t.match(status.identity.lastError, /no-such-dir/)
  t.match(status.ready.reasons.join('\n'), /no svid has been accepted for spiffe:.*no-such-dir/)
  t.notMatch(JSON.stringify(status), /1970/)
  child.kill('SIGTERM')
  await new Promise((resolve) => child.once('exit', resolve))
})
