// The Workload API socket hands out the SVID's private key: `spiffe-lb workload-api` creates it
// with mode 0600 (or --socket-mode) under any umask (the tests run the command under umask 000),
// only in an existing directory writable by its owner only, and says so with a coded one-line
// error, exit 2, otherwise.
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { chmod, mkdir, stat, writeFile } from 'node:fs/promises'
import net from 'node:net'
import { join } from 'node:path'
import t, { type Test } from 'tap'
import { stringify } from 'yaml'
import { IDENTITY, baseDoc, rootPem } from '../src/config/testing/config-fixtures.ts'
import { tempDir } from './tls-fixtures.ts'

const main = new URL('../src/cli/main.ts', import.meta.url).pathname
const dir = await tempDir(t)
const config = join(dir, 'config.yaml')
await writeFile(config, stringify(baseDoc(await rootPem())))

interface Run { output: () => string, exited: Promise<number | null>, stop: () => Promise<number | null> }

/** Runs `workload-api --listen unix://<socket> …args` under umask 000. */
function workloadApi (t: Test, socket: string, args: string[] = []): Run {
  const cmd = ['exec', JSON.stringify(process.execPath), JSON.stringify(main), 'workload-api', '-c', JSON.stringify(config),
    '--listen', JSON.stringify(`unix://${socket}`), '--identity', JSON.stringify(IDENTITY), '--state', JSON.stringify(join(dir, 'state')), ...args].join(' ')
  const child = spawn('sh', ['-c', `umask 000 && ${cmd}`], { stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  child.stdout.on('data', (d: Buffer) => { output += d.toString() })
  child.stderr.on('data', (d: Buffer) => { output += d.toString() })
  const exited = once(child, 'exit').then(([code]) => code as number | null)
  t.teardown(async () => { if (child.exitCode === null && child.signalCode === null) { child.kill('SIGKILL'); await exited } })
  return { output: () => output, exited, stop: async () => { child.kill('SIGTERM'); return await exited } }
}

async function listening (run: Run): Promise<void> {
  const end = Date.now() + 60_000
  while (!run.output().includes('workload api listening on')) {
    if (Date.now() > end) throw new Error(`workload-api did not start:\n${run.output()}`)
    const code = await Promise.race([run.exited, new Promise((resolve) => setTimeout(resolve, 50, 'running'))])
    if (code !== 'running') throw new Error(`workload-api exited ${String(code)}:\n${run.output()}`)
  }
}

async function connects (socket: string): Promise<boolean> {
  return await new Promise((resolve) => {
    const s = net.connect(socket)
    s.once('connect', () => { s.destroy(); resolve(true) })
    s.once('error', () => { resolve(false) })
  })
}

async function privateDir (name: string): Promise<string> {
  const d = join(dir, name)
  await mkdir(d)
  await chmod(d, 0o700)
  return d
}

t.test('under umask 000 the socket is 0600, serves, and is removed on stop', async (t) => {
  const socket = join(await privateDir('run'), 'agent.sock')
  const run = workloadApi(t, socket)
  await listening(run)
  const st = await stat(socket)
  t.ok(st.isSocket())
  t.equal((st.mode & 0o777).toString(8), '600', 'only the owner may connect')
  t.ok(await connects(socket), 'the server listens on it')
  t.equal(await run.stop(), 0)
  await t.rejects(stat(socket), { code: 'ENOENT' }, 'the socket is gone after stop')
})

t.test('--socket-mode 0660 sets that mode under umask 000', async (t) => {
  const socket = join(await privateDir('group'), 'agent.sock')
  const run = workloadApi(t, socket, ['--socket-mode', '0660'])
  await listening(run)
  t.equal(((await stat(socket)).mode & 0o777).toString(8), '660')
  t.equal(await run.stop(), 0)
})

/** Runs the command expecting it to refuse: exit 2, and the one output line. */
async function refused (t: Test, socket: string, args: string[] = []): Promise<string> {
  const run = workloadApi(t, socket, args)
  let timer: NodeJS.Timeout | undefined
  const code = await Promise.race([run.exited, new Promise((resolve) => { timer = setTimeout(resolve, 30_000, 'still running') })])
  clearTimeout(timer)
  t.equal(code, 2, 'exit 2')
  const lines = run.output().split('\n').filter((l) => l.trim() !== '')
  t.equal(lines.length, 1, `one line: ${run.output()}`)
  t.notMatch(run.output(), /\n\s+at |ERR_SPIFFE_CLI_UNEXPECTED/, 'no stack, no unexpected error')
  return lines[0] ?? ''
}

t.test('a missing directory is a coded one-line error, exit 2', async (t) => {
  const line = await refused(t, join(dir, 'missing', 'agent.sock'))
  t.match(line, /ERR_SPIFFE_CONTROL_SOCKET_DIR_MISSING/)
  t.match(line, /missing" does not exist/)
})

t.test('a group or world writable directory is refused', async (t) => {
  const shared = await privateDir('shared')
  await chmod(shared, 0o777)
  t.match(await refused(t, join(shared, 'agent.sock')), /ERR_SPIFFE_CONTROL_SOCKET_DIR_UNSAFE.*writable by every user \(mode 0777\)/)
  await chmod(shared, 0o770)
  t.match(await refused(t, join(shared, 'agent.sock')), /ERR_SPIFFE_CONTROL_SOCKET_DIR_UNSAFE.*writable by its group/)
})

t.test('a directory this user may not write is a coded error, not an unexpected one', { skip: process.getuid?.() === 0 ? 'root writes anywhere' : false }, async (t) => {
  const locked = await privateDir('locked')
  await chmod(locked, 0o500)
  t.teardown(async () => { await chmod(locked, 0o700) })
  t.match(await refused(t, join(locked, 'agent.sock')), /ERR_SPIFFE_CONTROL_SOCKET_BIND.*EACCES/)
})

t.test('a --socket-mode that is not octal is a usage error', async (t) => {
  t.match(await refused(t, join(await privateDir('bad-mode'), 'agent.sock'), ['--socket-mode', '999']), /ERR_SPIFFE_CLI_SOCKET_MODE/)
})

t.test('a socket the system cannot bind (path too long) is a coded error, not an unexpected one', async (t) => {
  let deep = await privateDir('deep')
  while (deep.length < 110) deep = join(deep, 'x'.repeat(20))
  await mkdir(deep, { recursive: true, mode: 0o700 })
  t.match(await refused(t, join(deep, 'agent.sock')), /ERR_SPIFFE_CONTROL_SOCKET_BIND: cannot create the workload api socket/)
})
