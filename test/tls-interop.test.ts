// Interop with real TLS peers: openssl s_client and curl talk to the `spiffe-lb backend`
// (started in-process from the CLI module) with SVIDs generated at test time.
import { execFile, spawn } from 'node:child_process'
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { PassThrough } from 'node:stream'
import { promisify } from 'node:util'
import t from 'tap'
import type { Test } from 'tap'
import { startBackendCommand } from '../src/testbed/backend-starter.ts'
import type { BackendCommandOptions, RunningBackend } from '../src/testbed/backend-starter.ts'
import { makeDomain, makeSvid, tempDir, writeCredentials } from './tls-fixtures.ts'
import type { CredentialFiles } from './tls-fixtures.ts'

const run = promisify(execFile)
const [a, b] = await Promise.all([makeDomain('a.test'), makeDomain('b.test')])
// The backend's SVID also carries a DNS SAN so curl can verify it by name (see below).
const backendSvid = await makeSvid(a, '/backend', { dnsNames: ['backend.a.test'] })
const clientSvid = await makeSvid(b, '/client')

interface Fixture { backend: RunningBackend, port: number, server: CredentialFiles, client: CredentialFiles, logs: () => string }

async function start (t: Test, extra: Partial<BackendCommandOptions> = {}): Promise<Fixture> {
  const dir = await tempDir(t)
  const server = await writeCredentials(await subdir(dir, 'server'), backendSvid, [a.bundle, b.bundle])
  const client = await writeCredentials(await subdir(dir, 'client'), clientSvid, [a.bundle, b.bundle])
  let stderr = ''
  const out = { stdout: new PassThrough(), stderr: new PassThrough() }
  // The backend's one log output is stdout (JSON records when not a terminal).
  out.stdout.on('data', (d: Buffer) => { stderr += d.toString() })
  const backend = await startBackendCommand({ listen: '127.0.0.1:0', cert: server.cert, key: server.key, bundle: server.bundleArgs, ...extra }, out)
  t.teardown(() => backend.stop())
  return { backend, port: backend.backend.port, server, client, logs: () => stderr }
}

async function subdir (parent: string, name: string): Promise<string> {
  const dir = join(parent, name)
  await mkdir(dir)
  return dir
}

/** Runs openssl s_client, sends one HTTP request, and returns everything it printed. */
async function sClient (port: number, args: string[]): Promise<string> {
  const child = spawn('openssl', ['s_client', '-connect', `127.0.0.1:${port}`, '-ign_eof', ...args], { stdio: ['pipe', 'pipe', 'pipe'] })
  let text = ''
  child.stdout.on('data', (d: Buffer) => { text += d.toString() })
  child.stderr.on('data', (d: Buffer) => { text += d.toString() })
  child.stdin.end('GET /who HTTP/1.1\r\nHost: backend\r\nConnection: close\r\n\r\n')
  await new Promise((resolve) => child.once('close', resolve))
  return text
}

t.test('openssl s_client: no certificate gets no answer; a valid SVID gets the echo', async (t) => {
  const f = await start(t)
  const anonymous = await sClient(f.port, [])
  t.notMatch(anonymous, /HTTP\/1\.1/, 'no HTTP response without a client certificate')
  t.match(f.logs(), /ERR_SPIFFE_TLS_NO_PEER_CERTIFICATE/, 'the backend logged why')
  // -CAfile + -verify_return_error: openssl itself accepts the backend's SVID chain.
  const ok = await sClient(f.port, ['-cert', f.client.cert, '-key', f.client.key, '-CAfile', join(f.server.dir, 'ca_certificates.pem'), '-verify_return_error'])
  t.match(ok, /Verify return code: 0 \(ok\)/)
  t.match(ok, /HTTP\/1\.1 200 OK/)
  t.match(ok, /"peer":"spiffe:\/\/b\.test\/client"/)
  t.match(f.backend.backend.stats(), { connections: 1, rejected: 1 })
})

t.test('openssl resumes a session, and a trust change rotates the ticket keys', async (t) => {
  const f = await start(t)
  const sess = join(f.client.dir, 'session.pem')
  const tls = ['-cert', f.client.cert, '-key', f.client.key]
  t.match(await sClient(f.port, [...tls, '-sess_out', sess]), /New, TLSv1\.3/)
  const again = await sClient(f.port, [...tls, '-sess_in', sess])
  t.match(again, /Reused, TLSv1\.3/)
  t.match(again, /"peer":"spiffe:\/\/b\.test\/client"/)
  // Trust change: the a.test bundle file gains a second anchor and the backend reloads it.
  const extra = await makeDomain('a.test')
  await writeFile(join(f.server.dir, 'a.test.bundle.pem'), a.bundle.toPem() + extra.bundle.toPem())
  await f.backend.reload()
  t.equal(f.backend.store.current()?.bundleGeneration, 2)
  const after = await sClient(f.port, [...tls, '-sess_in', sess])
  t.match(after, /New, TLSv1\.3/, 'the old ticket no longer resumes')
  t.match(after, /HTTP\/1\.1 200 OK/, 'a full handshake still works')
  t.match(f.backend.backend.stats(), { connections: 3, resumed: 1 })
})

t.test('curl with a client SVID gets the JSON with its own SPIFFE ID as peer', async (t) => {
  const f = await start(t, { name: 'interop' })
  // curl checks the server certificate's DNS/IP SANs against the host name. An X.509-SVID
  // identifies a workload by its URI SAN only, which curl ignores, so a plain SVID fails with
  // curl error 60. Our test SVID carries the DNS SAN backend.a.test, and --resolve points that
  // name at 127.0.0.1: curl then verifies the chain against the a.test bundle (--cacert) and
  // the name, with no -k needed.
  const base = ['-sS', '--fail', '--cacert', join(f.server.dir, 'ca_certificates.pem'), '--resolve', `backend.a.test:${f.port}:127.0.0.1`]
  const url = `https://backend.a.test:${f.port}/v1/echo`
  const { stdout } = await run('curl', [...base, '--cert', f.client.cert, '--key', f.client.key, url])
  // curl offers h2 by ALPN and the test backend selects it.
    t.same(JSON.parse(stdout), { peer: 'spiffe://b.test/client', self: 'spiffe://a.test/backend', path: '/v1/echo', method: 'GET', name: 'interop', httpVersion: '2.0' })
  await t.rejects(run('curl', [...base, url]), 'without a client certificate curl gets no reply')
  await t.rejects(run('curl', ['-sS', '--cacert', join(f.server.dir, 'ca_certificates.pem'), '--cert', f.client.cert, '--key', f.client.key, `https://127.0.0.1:${f.port}/`]),
    { code: 60 }, 'by IP the name check fails: the SVID has no IP SAN')
})

t.test('curl: allow-lists are enforced and the reason is logged', async (t) => {
  const f = await start(t, { allowId: ['spiffe://b.test/someone-else'] })
  const base = ['-sS', '-k', '--cert', f.client.cert, '--key', f.client.key]
  await t.rejects(run('curl', [...base, `https://127.0.0.1:${f.port}/`]))
  t.match(f.logs(), /ERR_SPIFFE_TLS_PEER_NOT_ALLOWED.*spiffe:\/\/b\.test\/client/)
  const byDomain = await start(t, { allowTrustDomain: ['b.test'] })
  const { stdout } = await run('curl', [...base, `https://127.0.0.1:${byDomain.port}/`])
  t.match(JSON.parse(stdout), { peer: 'spiffe://b.test/client' })
})
