import t from 'tap'
import { spawn } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createDemoWorld } from '../src/testbed/up-world.ts'

const main = new URL('../src/cli/main.ts', import.meta.url).pathname

function sh (script: string): Promise<{ code: number | null, stdout: string, stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn('bash', ['-o', 'pipefail', '-c', script], { stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString() })
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString() })
    child.once('close', (code) => { resolve({ code, stdout, stderr }) })
  })
}

t.test('serve --log-level loud: one coded line, exit 2', async (t) => {
  const res = await sh(`'${process.execPath}' '${main}' serve -c /nonexistent.yaml --log-level loud`)
  t.equal(res.code, 2)
  t.match(res.stderr, /^spiffe-lb: ERR_SPIFFE_CLI_LOG_LEVEL: --log-level must be one of .*info.*, got "loud"/)
  t.notMatch(res.stderr, /^\s+at /m)
})

t.test('inspect FILE | head -1: no EPIPE, no stack', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'spiffe-lb-epipe-'))
  t.teardown(async () => { await rm(dir, { recursive: true, force: true }) })
  const world = await createDemoWorld(dir, Date.now())
  const cert = world.backends[0]?.certFile ?? ''
  // Many copies of the chain make the output longer than the pipe buffer `head` leaves unread.
  const big = join(dir, 'many.pem')
  const { readFile } = await import('node:fs/promises')
  await writeFile(big, (await readFile(cert, 'utf8')).repeat(400))
  const res = await sh(`'${process.execPath}' '${main}' inspect '${big}' | head -1`)
  t.equal(res.stdout.split('\n').filter((l) => l !== '').length, 1)
  t.equal(res.stderr, '', 'nothing on stderr')
  t.equal(res.code, 0)
})
