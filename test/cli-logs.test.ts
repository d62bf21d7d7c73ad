// One log output per process, through the CLI: `serve` piped writes only JSON lines (the
// default off a terminal), `--log-format pretty` only readable lines; a refused reload says the
// running config stays in force with the rule's code; an SVID rotation is logged at info with
// the SPIFFE ID, serial, not-after and generation.
import { execFile, spawn, type ChildProcess, type StdioOptions } from 'node:child_process'
import { closeSync, openSync } from 'node:fs'
import { chmod, mkdir, rename, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { once } from 'node:events'
import t, { type Test } from 'tap'
import { stringify } from 'yaml'
import { baseDoc, edit, rootPem } from '../src/config/testing/config-fixtures.ts'
import { isReadyMessage } from '../src/process/ready-message.ts'
import { makeDomain, makeSvid, tempDir, writeCredentials } from './tls-fixtures.ts'

const main = new URL('../src/cli/main.ts', import.meta.url).pathname
const TD = 'demo-pool.global.123456789012.workload.id.goog'
const ID = `spiffe://${TD}/ns/lb/sa/frontend`

async function waitFor (what: () => boolean, label: string, output: () => string, ms = 30_000): Promise<void> {
  const end = Date.now() + ms
  while (!what()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${label}\n${output()}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

/** Replaces `file` at once (write aside, then rename), as agents and secret mounts do. */
async function replace (file: string, text: string, mode: number): Promise<void> {
  await writeFile(`${file}.tmp`, text)
  await chmod(`${file}.tmp`, mode)
  await rename(`${file}.tmp`, file)
}

interface Serving { child: ChildProcess, stdout: () => string, stderr: () => string, config: string, creds: string, domain: Awaited<ReturnType<typeof makeDomain>> }

/** Starts `serve` on a directory credential source with `args`; stdout and stderr are pipes unless `stdio` says otherwise. */
async function serve (t: Test, args: string[], stdio: StdioOptions = ['ignore', 'pipe', 'pipe']): Promise<Serving> {
  const dir = await tempDir(t)
  const creds = join(dir, 'creds')
  await mkdir(creds)
  const domain = await makeDomain(TD)
  await writeCredentials(creds, await makeSvid(domain, '/ns/lb/sa/frontend'), [domain.bundle])
  const config = join(dir, 'config.yaml')
  await writeFile(config, stringify(edit(baseDoc(await rootPem()),
    [['credentials'], { source: 'directory', directory: creds }],
    [['frontend'], { listen: '127.0.0.1:0' }],
    [['admin'], { listen: '127.0.0.1:0' }])))
  const child = spawn(process.execPath, [main, 'serve', '-c', config, ...args], { stdio })
  let stdout = ''
  let stderr = ''
  child.stdout?.on('data', (d: Buffer) => { stdout += d.toString() })
  child.stderr?.on('data', (d: Buffer) => { stderr += d.toString() })
  t.teardown(() => { if (child.exitCode === null) child.kill('SIGKILL') })
  return { child, stdout: () => stdout, stderr: () => stderr, config, creds, domain }
}

/** Writes an invalid config over the served one and sends SIGHUP. */
async function breakConfig (s: Serving): Promise<void> {
  await writeFile(s.config, 'project: { id: demo-project, number: "123456789012" }\nbackendServices: []\n')
  s.child.kill('SIGHUP')
}

async function stop (t: Test, s: Serving): Promise<void> {
  s.child.kill('SIGTERM')
  const [code] = await once(s.child, 'exit') as [number | null]
  t.equal(code, 0, 'exits 0 on SIGTERM')
}

type Record = { level: number, time: number, msg: string, [key: string]: unknown }

t.test('piped, serve writes JSON lines only: listening, a rotation, a refused reload, stopped', async (t) => {
  const s = await serve(t, [])
  const records = (): Record[] => s.stdout().split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record)
  const find = (re: RegExp): Record | undefined => records().find((r) => re.test(r.msg))
  await waitFor(() => find(/^admin listening on http:/) !== undefined, 'the listening records', s.stdout)
  t.match(find(/^proxy listening on http:/), { level: 30, url: /^http:\/\/127\.0\.0\.1:\d+$/ })

  // A rotation: a new SVID written into the directory (key first, then the certificate).
  const next = await makeSvid(s.domain, '/ns/lb/sa/frontend')
  await replace(join(s.creds, 'private_key.pem'), next.privateKeyPem(), 0o600)
  await replace(join(s.creds, 'certificates.pem'), next.chainPem(), 0o644)
  const serial = next.leaf.serialNumber
  const rotated = (): Record | undefined => records().find((r) => r.msg.startsWith('svid rotated: ') && String(r.svidSerial).toLowerCase() === serial.toLowerCase())
  await waitFor(() => rotated() !== undefined, 'the rotation record', s.stdout)
  const r = rotated()
  t.equal(r?.level, 30, 'at info')
  t.match(r?.msg, new RegExp(`^svid rotated: ${ID.replace(/[./]/g, '\\$&')} serial ${serial}, not after ${new Date(next.notAfter).toISOString().replace(/\./g, '\\.')}, generation \\d+$`))
  t.match(r, { identity: ID, svidNotAfter: new Date(next.notAfter).toISOString(), generation: Number })

  await breakConfig(s)
  await waitFor(() => find(/^config reload refused/) !== undefined, 'the refused reload', s.stdout)
  t.match(find(/^config reload refused/), {
    level: 40,
    code: 'ERR_SPIFFE_CONFIG_EMPTY',
    path: 'backendServices',
    msg: /^config reload refused \((SIGHUP|config file changed)\): backendServices: must not be empty \(ERR_SPIFFE_CONFIG_EMPTY\); the running config stays in force$/
  })
  await stop(t, s)
  t.match(records().at(-1), { msg: 'spiffe-lb stopped' })
  t.ok(s.stdout().split('\n').filter((l) => l !== '').every((l) => l.startsWith('{"level":')), 'every stdout line is a JSON record')
  t.equal(s.stderr(), '', 'nothing on stderr')
})

t.test('--log-format pretty writes readable lines only, the refused reload among them', async (t) => {
  // At --log-level warn the lifecycle lines (listening, stopped) still show.
  const s = await serve(t, ['--log-format', 'pretty', '--log-level', 'warn'])
  await waitFor(() => /INFO: admin listening on http:/.test(s.stdout()), 'the listening line', s.stdout)
  await breakConfig(s)
  await waitFor(() => s.stdout().includes('reload refused'), 'the refused reload', s.stdout)
  await stop(t, s)
  const lines = s.stdout().split('\n').filter((l) => l !== '')
  t.match(s.stdout(), /^\[[\d:.]+\] INFO: proxy listening on http:\/\/127\.0\.0\.1:\d+$/m)
  t.match(s.stdout(), /^\[[\d:.]+\] WARN: config reload refused \((SIGHUP|config file changed)\): backendServices: must not be empty \(ERR_SPIFFE_CONFIG_EMPTY\); the running config stays in force/m)
  for (const line of lines) {
    t.match(line, /^\[\d\d:\d\d:\d\d\.\d{3}\] (TRACE|DEBUG|INFO|WARN|ERROR|FATAL): /, `a pretty line: ${line}`)
    t.throws(() => JSON.parse(line) as unknown, `not JSON: ${line}`)
    t.notMatch(line, '"level":', 'no JSON record inside')
  }
})

for (const format of ['json', 'pretty'] as const) {
  t.test(`${format}: a stdout that cannot be written is said once on stderr, and serve still serves and stops`, async (t) => {
    const dir = await tempDir(t)
    const file = join(dir, 'stdout')
    await writeFile(file, '')
    const readOnly = openSync(file, 'r') // every write to it fails (EBADF)
    t.teardown(() => { closeSync(readOnly) })
    const s = await serve(t, ['--log-format', format], ['ignore', readOnly, 'pipe', 'ipc'])
    const ready = await new Promise<unknown>((resolve) => { s.child.on('message', (m) => { if (isReadyMessage(m)) resolve(m) }) })
    const { address } = ready as { address: string }
    const res = await fetch(`http://${address}/`) // the access log writes too
    await res.arrayBuffer()
    await stop(t, s)
    const said = s.stderr().split('\n').filter((l) => l !== '')
    t.equal(said.length, 1, `one line on stderr: ${s.stderr()}`)
    t.match(said[0], /^spiffe-lb: log output \(fd 1\) cannot be written: EBADF; log records are dropped while it is \(ERR_SPIFFE_CLI_LOG_OUTPUT\)$/)
  })
}

t.test('--log-format takes pretty or json only (exit 2)', async (t) => {
  const res = await new Promise<{ code: number | null, stderr: string }>((resolve) => {
    execFile(process.execPath, [main, 'serve', '-c', 'unused.yaml', '--log-format', 'text'], (err, _stdout, stderr) => {
      resolve({ code: err === null ? 0 : (err as { code?: number }).code ?? null, stderr })
    })
  })
  t.equal(res.code, 2)
  t.match(res.stderr, /ERR_SPIFFE_CLI_LOG_FORMAT: --log-format must be one of pretty, json, got "text"/)
})
