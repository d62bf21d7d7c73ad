import t from 'tap'
import { spawn, type ChildProcess } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DATA_PLANE_V8_FLAGS } from '../src/defaults.ts'
import { isReadyMessage } from '../src/process/ready-message.ts'
import { createDemoWorld, demoConfigYaml } from '../src/testbed/up-world.ts'

// `serve` starts over (same pid) with the V8 heap flags of the data plane, unless the operator
// set them or a parent holds it by IPC; `--workers` passes them to every worker.

const main = new URL('../src/cli/main.ts', import.meta.url).pathname

/** Returns the command line of `pid` as /proc shows it: what the running image was started with. */
function cmdline (pid: number): string[] {
  return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter((a) => a !== '')
}

/** Returns the pids of `pid`'s children. */
function children (pid: number): number[] {
  return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter((p) => p !== '').map(Number)
}

async function started (child: ChildProcess, ready: (out: string) => boolean): Promise<void> {
  let out = ''
  await new Promise<void>((resolve, reject) => {
    const check = (d: Buffer): void => { out += d.toString(); if (ready(out)) resolve() }
    child.stdout?.on('data', check)
    child.stderr?.on('data', (d: Buffer) => { out += d.toString() })
    child.once('exit', (code) => { reject(new Error(`serve exited ${String(code)} before it was ready:\n${out}`)) })
    child.once('message', (m) => { if (isReadyMessage(m)) resolve() })
  })
}

t.test('serve runs with the data plane V8 flags unless told otherwise', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'spiffe-lb-v8-'))
  t.teardown(async () => { await rm(dir, { recursive: true, force: true }) })
  const world = await createDemoWorld(dir, Date.now())
  const config = join(dir, 'config.yaml')
  await writeFile(config, demoConfigYaml(world, new Map(world.backends.map((b, i) => [b.name, 9443 + i])), { proxyPort: 0, adminPort: 0 }))
  const listening = (out: string): boolean => /proxy listening on http:/.test(out)
  const semi = `${DATA_PLANE_V8_FLAGS[0]?.split('=')[0] ?? ''}=16`
  const cases: Array<{ name: string, args: string[], env?: NodeJS.ProcessEnv, ipc?: boolean, expect: (argv: string[]) => boolean }> = [
    { name: 'a plain start gets the flags', args: [], expect: (a) => DATA_PLANE_V8_FLAGS.every((f) => a.includes(f)) },
    { name: "the operator's NODE_OPTIONS win", args: [], env: { NODE_OPTIONS: semi }, expect: (a) => !a.includes(DATA_PLANE_V8_FLAGS[0] ?? '') },
    { name: "the operator's command line wins", args: [semi], expect: (a) => a.includes(semi) && !a.includes(DATA_PLANE_V8_FLAGS[0] ?? '') },
    { name: 'an IPC child stays as its parent started it', args: [], ipc: true, expect: (a) => !a.includes(DATA_PLANE_V8_FLAGS[0] ?? '') }
  ]
  for (const c of cases) {
    const child = spawn(process.execPath, [...c.args, main, 'serve', '-c', config, '--log-level', 'info'], {
      stdio: c.ipc === true ? ['ignore', 'pipe', 'pipe', 'ipc'] : ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NODE_OPTIONS: '', ...c.env }
    })
    t.teardown(() => { child.kill('SIGKILL') })
    await started(child, listening)
    const argv = cmdline(child.pid ?? 0)
    t.ok(c.expect(argv), `${c.name}: ${argv.join(' ')}`)
    child.kill('SIGTERM')
  }

  const primary = spawn(process.execPath, [main, 'serve', '-c', config, '--workers', '2'], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NODE_OPTIONS: '' } })
  t.teardown(() => { primary.kill('SIGKILL') })
  await started(primary, (out) => (out.match(/proxy listening on http:/g) ?? []).length >= 1)
  const workers = children(primary.pid ?? 0)
  t.equal(workers.length, 2, 'two workers')
  for (const pid of workers) t.ok(DATA_PLANE_V8_FLAGS.every((f) => cmdline(pid).includes(f)), `worker ${pid}: ${cmdline(pid).join(' ')}`)
  primary.kill('SIGTERM')
})
