import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { PassThrough } from 'node:stream'
import t from 'tap'
import { Agent, request } from 'undici'
import { TestSnapshots, makeDomain, makeSvid, tempDir, writeCredentials } from '../../test/tls-fixtures.ts'
import { createBackendConnector } from '../tls/backend-connector.ts'
import { verifiedPeer } from '../tls/peer-identity.ts'
import { runCli } from '../cli/program.ts'
import { startBackendCommand } from './backend-starter.ts'
import type { BackendCommandOptions, RunningBackend } from './backend-starter.ts'

const [a, b] = await Promise.all([makeDomain('a.test'), makeDomain('b.test')])
const backendSvid = await makeSvid(a, '/backend')
const lb = new TestSnapshots(await makeSvid(b, '/lb/frontend'), [a.bundle, b.bundle])

async function start (opts: Omit<BackendCommandOptions, 'listen'>): Promise<{ running: RunningBackend, stdout: string, logs: () => Array<Record<string, unknown>> }> {
  let stdout = ''
  let stderr = ''
  const out = { stdout: new PassThrough(), stderr: new PassThrough() }
  out.stdout.on('data', (d: Buffer) => { stdout += d.toString() })
  out.stderr.on('data', (d: Buffer) => { stderr += d.toString() })
  const running = await startBackendCommand({ listen: '127.0.0.1:0', ...opts }, out)
  t.teardown(() => running.stop())
  const logs = (): Array<Record<string, unknown>> => stdout.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, unknown>)
  t.equal(stderr, '', 'one log output: nothing on stderr')
  return { running, stdout, logs }
}

function agent (): Agent {
  const connector = createBackendConnector({ snapshots: lb })
  // One connection per origin: undici may otherwise open a second one for a request sent in the
  // same tick the previous response ended, which would make the counters below flaky.
  const dispatcher = new Agent({ connect: connector, connections: 1 })
  t.teardown(async () => { if (!dispatcher.closed) await dispatcher.close(); connector.close() })
  return dispatcher
}

async function get (dispatcher: Agent, port: number, path: string, method: 'GET' | 'POST' = 'GET'): Promise<{ status: number, body: string }> {
  const res = await request(`https://127.0.0.1:${port}${path}`, { dispatcher, method, ...(method === 'POST' ? { body: 'x' } : {}) })
  return { status: res.statusCode, body: await res.body.text() }
}

t.test('answers with the caller\'s and its own SPIFFE ID; counts connections and resumptions', async (t) => {
  const files = await writeCredentials(await tempDir(t), backendSvid, [a.bundle, b.bundle])
  const { running, logs } = await start({ cert: files.cert, key: files.key, bundle: files.bundleArgs, name: 'blue' })
  const port = running.backend.port
  t.match(logs(), [{ level: 30, backend: 'blue', address: `127.0.0.1:${port}`, spiffeId: 'spiffe://a.test/backend', msg: `listening on 127.0.0.1:${port} as spiffe://a.test/backend` }])
  const first = agent()
  const echo = await get(first, port, '/v1/things?x=1', 'POST')
  t.equal(echo.status, 200)
  t.same(JSON.parse(echo.body), { peer: 'spiffe://b.test/lb/frontend', self: 'spiffe://a.test/backend', path: '/v1/things?x=1', method: 'POST', name: 'blue', httpVersion: '1.1' })
  t.same(await get(first, port, '/healthz'), { status: 200, body: 'ok' })
  t.same(JSON.parse((await get(first, port, '/stats')).body), { connections: 1, resumed: 0, requests: 2, h2Requests: 0, rejected: 0, open: 1 })
  await first.close()
  const second = agent() // a new connector: no cached session, so a full handshake
  await get(second, port, '/')
  t.same(JSON.parse((await get(second, port, '/stats')).body), { connections: 2, resumed: 0, requests: 3, h2Requests: 0, rejected: 0, open: 1 })
})

t.test('a connection from the same connector resumes, and /stats shows it', async (t) => {
  const files = await writeCredentials(await tempDir(t), backendSvid, [a.bundle, b.bundle])
  const { running } = await start({ cert: files.cert, key: files.key, bundle: files.bundleArgs })
  const connector = createBackendConnector({ snapshots: lb })
  t.teardown(() => connector.close())
  // Tickets precede the first response on the wire, so they are cached once it is read.
  for (let i = 0; i < 2; i++) {
    const pool = new Agent({ connect: connector, connections: 1 })
    await get(pool, running.backend.port, '/')
    await pool.close()
  }
  t.match(running.backend.stats(), { connections: 2, resumed: 1, requests: 2 })
})

t.test('allow-lists refuse other callers and the backend logs why', async (t) => {
  const files = await writeCredentials(await tempDir(t), backendSvid, [a.bundle, b.bundle])
  const { running, logs } = await start({ cert: files.cert, key: files.key, bundle: files.bundleArgs, allowTrustDomain: ['a.test'] })
  await t.rejects(get(agent(), running.backend.port, '/'))
  t.match(running.backend.stats(), { connections: 0, rejected: 1, requests: 0 })
  t.match(logs().find((l) => l.code !== undefined), { code: 'ERR_SPIFFE_TLS_PEER_NOT_ALLOWED', msg: /spiffe:\/\/b\.test\/lb\/frontend/ })
})

t.test('--credentials-dir: GCE layout, and a rotation is picked up', async (t) => {
  const dir = await tempDir(t)
  await writeCredentials(dir, backendSvid, [a.bundle, b.bundle])
  const { running } = await start({ credentialsDir: dir })
  const connector = createBackendConnector({ snapshots: lb, sessionResumption: false })
  t.teardown(() => connector.close())
  const leafSeen = async (): Promise<string | undefined> => new Promise((resolve, reject) => {
    connector({ hostname: '127.0.0.1', protocol: 'https:', port: running.backend.port }, (...args) => {
      if (args[0] !== null) { reject(args[0]); return }
      resolve(verifiedPeer(args[1])?.chain[0]?.fingerprint256)
      args[1].destroy()
    })
  })
  t.equal(await leafSeen(), backendSvid.leaf.fingerprint256)
  const rotated = await makeSvid(a, '/backend')
  await writeFile(join(dir, 'certificates.pem'), rotated.chainPem())
  await writeFile(join(dir, 'private_key.pem'), rotated.privateKeyPem())
  await running.reload()
  t.equal(running.store.current()?.svidGeneration, 2)
  t.equal(await leafSeen(), rotated.leaf.fingerprint256)
})

t.test('usage errors exit 2 with a coded message', async (t) => {
  const prev = process.stderr.write
  let said = ''
  process.stderr.write = ((s: string) => { said += s; return true }) as typeof process.stderr.write
  t.teardown(() => { process.stderr.write = prev })
  t.equal(await runCli(['backend', '--cert', 'x.pem']), 2)
  t.equal(await runCli(['backend', '--cert', 'c', '--key', 'k', '--bundle', 'no-equals-sign']), 2)
  process.stderr.write = prev
  t.match(said, /ERR_SPIFFE_CLI_BACKEND_CREDENTIALS[\s\S]*ERR_SPIFFE_CLI_BAD_BUNDLE_ARG/)
})

t.test('the CLI prints its address, serves, and stops on SIGTERM with exit code 0', async (t) => {
  const files = await writeCredentials(await tempDir(t), backendSvid, [a.bundle, b.bundle])
  const child = spawn(process.execPath, ['src/cli/main.ts', 'backend', '--listen', '127.0.0.1:0', '--cert', files.cert, '--key', files.key, ...files.bundleArgs.flatMap((x) => ['--bundle', x]), '--name', 'cli'], { stdio: ['ignore', 'pipe', 'pipe'] })
  t.teardown(() => { if (child.exitCode === null) child.kill('SIGKILL') })
  const [line] = await once(createInterface({ input: child.stdout }), 'line') as [string]
  const m = /^listening on 127\.0\.0\.1:(\d+) as spiffe:\/\/a\.test\/backend$/.exec((JSON.parse(line) as { msg: string }).msg)
  t.ok(m, line)
  const echo = await get(agent(), Number(m?.[1]), '/who')
  t.match(JSON.parse(echo.body), { peer: 'spiffe://b.test/lb/frontend', name: 'cli', path: '/who' })
  child.kill('SIGTERM')
  const [code] = await once(child, 'exit') as [number | null]
  t.equal(code, 0)
})
