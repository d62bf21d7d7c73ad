import t from 'tap'
import { execFile } from 'node:child_process'
import { X509Certificate } from 'node:crypto'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createDemoWorld, demoConfigYaml } from '../src/testbed/up-world.ts'

// One duration syntax (internal/duration.ts) for every flag and every config duration, driven
// through the CLI as a user types it.

const REPO = fileURLToPath(new URL('..', import.meta.url))
const dir = await mkdtemp(join(tmpdir(), 'spiffe-lb-durations-'))
t.teardown(async () => { await rm(dir, { recursive: true, force: true }) })

interface Run { code: number, stdout: string, stderr: string }
async function cli (...args: string[]): Promise<Run> {
  return await new Promise((resolve) => {
    execFile(process.execPath, ['src/cli/main.ts', ...args], { cwd: REPO }, (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : -1, stdout, stderr })
    })
  })
}

const world = await createDemoWorld(dir, Date.now())
const ports = new Map(world.backends.map((b, i) => [b.name, 9443 + i]))
const config = join(dir, 'config.yaml')
await writeFile(config, demoConfigYaml(world, ports, { proxyPort: 0, adminPort: 0 }))

t.test('serve --drain-timeout takes ms, s, m and h; a bad value is a usage error naming the flag', async (t) => {
  for (const value of ['500ms', '1m', '10s', '1.5s', '1m30s']) {
    const run = await cli('serve', '--check', '-c', config, '--drain-timeout', value)
    t.equal(run.code, 0, `${value}: ${run.stderr}`)
  }
  const bad = await cli('serve', '--check', '-c', config, '--drain-timeout', '10 sec')
  t.equal(bad.code, 2)
  t.match(bad.stderr, /--drain-timeout must be a number with a unit \(ms, s, m or h\).*got "10 sec"/)
  t.match(bad.stderr, 'ERR_SPIFFE_CLI_DURATION')
  t.notMatch(bad.stderr, 'ERR_SPIFFE_CONFIG', 'a flag is not a config error')
})

t.test('config durations take the cloud form and the units; errors name the config path', async (t) => {
  const text = await readFile(config, 'utf8')
  const withLimits = (limits: string): string => text.replace(/frontend: \{ listen: ("[^"]+") \}/, `frontend: { listen: $1, limits: { ${limits} } }`)
  const good = join(dir, 'limits.yaml')
  await writeFile(good, withLimits('requestTimeout: "1.5s", headersTimeout: 500ms, keepAliveTimeout: 1m'))
  t.not(await readFile(good, 'utf8'), text, 'the limits went in')
  const ok = await cli('serve', '--check', '-c', good)
  t.equal(ok.code, 0, ok.stderr)
  const bad = join(dir, 'bad-limits.yaml')
  await writeFile(bad, withLimits('requestTimeout: 1d'))
  const run = await cli('serve', '--check', '-c', bad)
  t.equal(run.code, 2)
  t.match(run.stderr, /frontend\.limits\.requestTimeout: duration must be a number with a unit .*got "1d" \(ERR_SPIFFE_CONFIG_DURATION\)/)
})

t.test('svid issue --lifetime 1s issues one valid second; below 1s is refused', async (t) => {
  const ca = join(dir, 'ca')
  const root = await cli('ca', 'create-root', '--out', ca, '--subject', 'CN=Duration Root', '--lifetime', '24h')
  t.equal(root.code, 0, root.stderr)
  const out = join(dir, 'svid')
  const issued = await cli('svid', 'issue', '--ca', ca, '--id', 'spiffe://example.org/ns/a/sa/b', '--out', out, '--lifetime', '1s')
  t.equal(issued.code, 0, issued.stderr)
  t.notMatch(issued.stdout, 'shortened', 'the ca does not expire first')
  const cert = new X509Certificate(await readFile(join(out, 'certificates.pem')))
  t.equal(new Date(cert.validTo).getTime(), new Date(cert.validFrom).getTime(), 'notAfter == notBefore: x.509 validity includes its last second')
  const rootCert = new X509Certificate(await readFile(join(ca, 'ca.pem')))
  t.equal(new Date(rootCert.validTo).getTime() - new Date(rootCert.validFrom).getTime(), 86_400_000 - 1000, '--lifetime 24h on the ca')
  const short = await cli('svid', 'issue', '--ca', ca, '--id', 'spiffe://example.org/ns/a/sa/b', '--out', out, '--lifetime', '500ms')
  t.equal(short.code, 2)
  t.match(short.stderr, /ERR_SPIFFE_CLI_LIFETIME: --lifetime must be at least 1s, got "500ms"/)
})
