import t from 'tap'
import { execFile } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { createBenchPki } from '../bench-pki.ts'
import { haproxyConfig, nginxConfig } from './peer-configs.ts'
import type { PeerConfigInput } from './peer-configs.ts'
import { findExecutable } from './peer-proxies.ts'
import { PROXY_MODES } from './proxy-options.ts'

const input = (mode: PeerConfigInput['mode'], dir = '/tmp/x'): PeerConfigInput => ({
  mode, listenPort: 18080, backend: '127.0.0.1:9443', certFile: `${dir}/client.pem`, keyFile: `${dir}/client-key.pem`,
  combinedFile: `${dir}/combined.pem`, caFile: `${dir}/root.pem`, dir
})

t.test('each mode sets what makes it that mode, with the backend always verified', async (t) => {
  const cases = [
    { mode: 'fresh', nginx: [/proxy_ssl_session_reuse off;/, /Connection close;/], notNginx: /keepalive \d+;/, haproxy: [/no-ssl-reuse/, /http-server-close/] },
    { mode: 'resumed', nginx: [/proxy_ssl_session_reuse on;/, /Connection close;/], notNginx: /keepalive \d+;/, haproxy: [/http-server-close/], notHaproxy: /no-ssl-reuse/ },
    { mode: 'pooled', nginx: [/keepalive 64;/, /Connection "";/], haproxy: [/http-reuse always/], notHaproxy: /http-server-close/ }
  ] as const
  for (const c of cases) {
    const n = nginxConfig(input(c.mode))
    const h = haproxyConfig(input(c.mode))
    for (const re of [...c.nginx, /proxy_ssl_verify on;/, /proxy_ssl_trusted_certificate \/tmp\/x\/root\.pem;/, /access_log \/tmp\/x\/nginx-access\.log;/, /worker_processes 1;/]) t.match(n, re, `${c.mode} nginx ${String(re)}`)
    for (const re of [...c.haproxy, /verify required ca-file \/tmp\/x\/root\.pem/, /nbthread 1/, /option httplog/]) t.match(h, re, `${c.mode} haproxy ${String(re)}`)
    if ('notNginx' in c) t.notMatch(n, c.notNginx)
    if ('notHaproxy' in c) t.notMatch(h, c.notHaproxy)
  }
})

// The real binaries judge the configs (CI installs both; skipped where absent).
for (const [name, args] of [['nginx', (f: string, d: string) => ['-t', '-p', d, '-c', f]], ['haproxy', (f: string) => ['-c', '-f', f]]] as const) {
  const exe = findExecutable(name)
  t.test(`${name} accepts the config of every mode`, { skip: exe === undefined ? `${name} is not installed` : false }, async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'spiffe-lb-peer-config-'))
    t.teardown(async () => { await rm(dir, { recursive: true, force: true }) })
    const pki = await createBenchPki(join(dir, 'pki'), 'ECDSA_P256', 1)
    await writeFile(join(dir, 'combined.pem'), `${pki.client.chainPem}${pki.client.keyPem}`)
    for (const mode of PROXY_MODES) {
      const c = { ...input(mode, dir), certFile: pki.client.certFile, keyFile: pki.client.keyFile, caFile: pki.rootFile }
      const file = join(dir, `${name}-${mode}.conf`)
      await writeFile(file, name === 'nginx' ? nginxConfig(c) : haproxyConfig(c))
      const r = await promisify(execFile)(exe ?? name, args(file, dir)).then(() => 0, (e: { code?: number, stderr?: string }) => e.stderr ?? String(e.code))
      t.equal(r, 0, `${name} -t ${mode}`)
    }
  })
}

t.test('findExecutable looks on PATH and then in sbin', async (t) => {
  t.equal(findExecutable('no-such-binary-spiffe-lb', ''), undefined)
  t.equal(findExecutable('sh', '/bin'), '/bin/sh')
})
